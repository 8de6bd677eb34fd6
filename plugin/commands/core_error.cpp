#include "plugin/commands/core_error.hpp"

#include "core/support/datum_json.hpp"

namespace prov::plugin {

namespace {

Span blamed_span(const prov::Blame& b, const Signature& sig, const EvaluatedCall& call, Span input_span) {
  using K = prov::Blame::Kind;
  switch (b.kind) {
    case K::input:
      return input_span.end > input_span.start ? input_span : call.head;
    case K::argument: {
      int i = sig.positional_index(b.name);
      if (i >= 0 && static_cast<size_t>(i) < call.positional.size()) return call.positional[i].span;
      return call.head;
    }
    case K::flag:
      if (const NamedArg* f = call.flag(b.name)) {
        if (f->value && f->value->span.end > f->value->span.start) return f->value->span;
        if (f->name_span.end > f->name_span.start) return f->name_span;
      }
      return call.head;
    case K::none: break;
  }
  return call.head;
}

/// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD: messages may
/// quote what a user gave (a file's bytes), and Nushell refuses a string that is not UTF-8.
std::string valid_text(std::string s) {
  if (prov::is_valid_utf8(s)) return s;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (i + n <= s.size() && prov::is_valid_utf8(std::string_view(s).substr(i, n))) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\uFFFD";
      ++i;
    }
  }
  return out;
}

std::string label_text(const prov::Error& e) {
  if (e.position() && e.position()->line > 0)
    return "in " + e.position()->path + " at line " + std::to_string(e.position()->line) + ", column " +
           std::to_string(e.position()->column);
  using K = prov::Blame::Kind;
  switch (e.blame().kind) {
    case K::input: return "this input";
    case K::argument: return "this argument";
    case K::flag: return "this flag";
    case K::none: break;
  }
  return "here";
}

}  // namespace

LabeledError to_labeled_error(const prov::Error& e, const Signature& sig, const EvaluatedCall& call, Span input_span) {
  LabeledError out;
  out.msg = valid_text(e.what());
  out.code = e.code();
  if (!e.help().empty()) out.help = valid_text(e.help());
  out.labels.push_back({valid_text(label_text(e)), blamed_span(e.blame(), sig, call, input_span)});
  for (const auto& r : e.related()) out.inner.push_back(to_labeled_error(r, sig, call, input_span));
  return out;
}

}  // namespace prov::plugin
