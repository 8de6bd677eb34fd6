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

// Messages may quote what a user gave (a file's bytes).

LabeledError to_labeled_error(const prov::Error& e, const Signature& sig, const EvaluatedCall& call, Span input_span) {
  LabeledError out;
  out.msg = to_valid_utf8(e.what());
  out.code = e.code();
  if (!e.help().empty()) out.help = to_valid_utf8(e.help());
  out.labels.push_back({to_valid_utf8(label_text(e)), blamed_span(e.blame(), sig, call, input_span)});
  for (const auto& r : e.related()) out.inner.push_back(to_labeled_error(r, sig, call, input_span));
  return out;
}

}  // namespace prov::plugin
