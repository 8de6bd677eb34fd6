#include "core/infra/infra_refs.hpp"

#include <charconv>

namespace prov {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

/// The reference `inner` (the text between the braces) stands for; nullopt for other placeholders.
std::optional<InfraRef> parse_ref(std::string_view inner, std::string text) {
  std::vector<std::string> parts;
  const std::string expr = trim(inner);
  size_t start = 0;
  while (true) {
    size_t dot = expr.find('.', start);
    parts.push_back(expr.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() < 2 || parts[1].empty()) return std::nullopt;
  InfraRef r;
  r.text = std::move(text);
  r.name = parts[1];
  if (parts[0] == "vars" && parts.size() == 2) {
    r.kind = InfraRef::Kind::var;
    return r;
  }
  if (parts[0] == "servers" && parts.size() >= 3) {
    r.kind = InfraRef::Kind::server;
    r.path.assign(parts.begin() + 2, parts.end());
    return r;
  }
  return std::nullopt;
}

/// Calls `f(begin, end, ref)` for each reference in `s`.
template <typename F>
void each_ref(const std::string& s, F&& f) {
  size_t pos = 0;
  while ((pos = s.find("{{", pos)) != std::string::npos) {
    const size_t close = s.find("}}", pos + 2);
    if (close == std::string::npos) return;
    if (auto r = parse_ref(std::string_view(s).substr(pos + 2, close - pos - 2), s.substr(pos, close + 2 - pos)))
      f(pos, close + 2, *r);
    pos = close + 2;
  }
}

void collect(const Datum& v, std::vector<InfraRef>& out) {
  if (v.is_string())
    each_ref(v.str(), [&](size_t, size_t, const InfraRef& r) { out.push_back(r); });
  else if (v.is_list())
    for (const Datum& x : v.list()) collect(x, out);
  else if (v.is_record())
    for (const auto& [k, x] : v.record()) collect(x, out);
}

Datum resolve(const Datum& v, const InfraRefValue& value, const InfraRefLater& later, bool& known) {
  if (v.is_list()) {
    DatumList out;
    for (const Datum& x : v.list()) out.push_back(resolve(x, value, later, known));
    return out;
  }
  if (v.is_record()) {
    DatumRecord out;
    for (const auto& [k, x] : v.record()) out.emplace_back(k, resolve(x, value, later, known));
    return out;
  }
  if (!v.is_string()) return v;
  const std::string& s = v.str();
  std::string out;
  size_t copied = 0;
  std::optional<Datum> whole;
  each_ref(s, [&](size_t b, size_t e, const InfraRef& r) {
    std::optional<Datum> got = value(r);
    if (!got) known = false;
    if (b == 0 && e == s.size() && got) whole = std::move(got);
    out += s.substr(copied, b - copied);
    out += got ? to_display(*got) : later(r);
    copied = e;
  });
  if (whole) return *whole;
  if (copied == 0) return v;
  return out + s.substr(copied);
}

}  // namespace

std::vector<InfraRef> infra_refs_in(const Datum& v) {
  std::vector<InfraRef> out;
  collect(v, out);
  return out;
}

ResolvedRefs resolve_infra_refs(const Datum& v, const InfraRefValue& value, const InfraRefLater& later) {
  ResolvedRefs r;
  r.value = resolve(v, value, later, r.known);
  return r;
}

const Datum* datum_at(const Datum& d, const std::vector<std::string>& path) {
  const Datum* at = &d;
  for (const std::string& seg : path) {
    if (at->is_record()) {
      at = at->find(seg);
    } else if (at->is_list()) {
      size_t i = 0;
      auto [end, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), i);
      if (ec != std::errc() || end != seg.data() + seg.size() || i >= at->list().size()) return nullptr;
      at = &at->list()[i];
    } else {
      return nullptr;
    }
    if (!at) return nullptr;
  }
  return at;
}

}  // namespace prov
