#include "plugin/protocol/value_wire.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/support/utf8.hpp"

namespace prov::plugin {

Wire to_wire(const Span& s) { return Wire{{"start", s.start}, {"end", s.end}}; }

Span span_from_wire(const Wire& w) {
  return {wire_uint(wire_field(w, "start", "span"), "span.start"),
          wire_uint(wire_field(w, "end", "span"), "span.end")};
}

namespace {

Wire bytes_to_wire(const std::vector<uint8_t>& bytes) {
  // serde sends Vec<u8> as a sequence of numbers in both encodings.
  Wire arr = Wire::array();
  for (uint8_t b : bytes) arr.push_back(b);
  return arr;
}

std::vector<uint8_t> bytes_from_wire(const Wire& w, const char* what) {
  if (w.is_binary()) return std::vector<uint8_t>(w.get_binary().begin(), w.get_binary().end());
  if (!w.is_array()) throw ProtocolError(std::string(what) + ": expected bytes, got " + w.type_name());
  std::vector<uint8_t> out;
  out.reserve(w.size());
  for (const auto& b : w) {
    uint64_t v = wire_uint(b, what);
    if (v > 255) throw ProtocolError(std::string(what) + ": byte out of range");
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

std::string float_text(double d) {
  // Nushell's ObviousFloat: integral floats keep a ".0".
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*f", prec, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  }
  return s;
}

template <typename T>
Wire bound_to_wire(const Bound<T>& b) {
  using K = typename Bound<T>::Kind;
  if (b.kind == K::unbounded) return "Unbounded";
  return Wire{{b.kind == K::included ? "Included" : "Excluded", b.value}};
}

template <typename T>
Bound<T> bound_from_wire(const Wire& w) {
  auto [name, body] = wire_variant(w, "range bound");
  using K = typename Bound<T>::Kind;
  if (name == "Unbounded") return {K::unbounded, T{}};
  if (!body) throw ProtocolError("range bound: missing value");
  T v;
  if constexpr (std::is_same_v<T, double>) v = wire_float(*body, "range bound");
  else v = wire_int(*body, "range bound");
  if (name == "Included") return {K::included, v};
  if (name == "Excluded") return {K::excluded, v};
  throw ProtocolError("range bound: unknown variant '" + name + "'");
}

Wire range_to_wire(const Range& r, const Dialect& d) {
  if (d.text_ranges_and_cell_paths) return range_to_text(r);
  if (r.is_float)
    return Wire{{"FloatRange", {{"start", r.float_start}, {"step", r.float_step}, {"end", bound_to_wire(r.float_end)}}}};
  return Wire{{"IntRange", {{"start", r.int_start}, {"step", r.int_step}, {"end", bound_to_wire(r.int_end)}}}};
}

Range range_from_wire(const Wire& w) {
  if (w.is_string()) return range_from_text(w.get_ref<const std::string&>());
  auto [name, body] = wire_variant(w, "range");
  if (!body) throw ProtocolError("range: missing body");
  Range r;
  if (name == "IntRange") {
    r.int_start = wire_int(wire_field(*body, "start", "range"), "range.start");
    r.int_step = wire_int(wire_field(*body, "step", "range"), "range.step");
    r.int_end = bound_from_wire<int64_t>(wire_field(*body, "end", "range"));
  } else if (name == "FloatRange") {
    r.is_float = true;
    r.float_start = wire_float(wire_field(*body, "start", "range"), "range.start");
    r.float_step = wire_float(wire_field(*body, "step", "range"), "range.step");
    r.float_end = bound_from_wire<double>(wire_field(*body, "end", "range"));
  } else {
    throw ProtocolError("range: unknown variant '" + name + "'");
  }
  return r;
}

Wire cell_path_to_wire(const CellPath& c, const Dialect& d) {
  if (d.text_ranges_and_cell_paths) return cell_path_to_text(c);
  Wire members = Wire::array();
  for (const auto& m : c.members) {
    if (m.is_int)
      members.push_back({{"Int", {{"val", m.index}, {"span", to_wire(m.span)}, {"optional", m.optional}}}});
    else
      members.push_back({{"String", {{"val", m.name}, {"span", to_wire(m.span)}, {"optional", m.optional},
                                     {"casing", m.case_insensitive ? "Insensitive" : "Sensitive"}}}});
  }
  return Wire{{"members", std::move(members)}};
}

CellPath cell_path_from_wire(const Wire& w) {
  if (w.is_string()) return cell_path_from_text(w.get_ref<const std::string&>());
  CellPath c;
  const Wire& members = wire_field(w, "members", "cell path");
  if (!members.is_array()) throw ProtocolError("cell path: members is not a list");
  for (const auto& mw : members) {
    auto [name, body] = wire_variant(mw, "cell path member");
    if (!body) throw ProtocolError("cell path member: missing body");
    PathMember m;
    m.span = span_from_wire(wire_field(*body, "span", "cell path member"));
    m.optional = wire_bool(wire_field(*body, "optional", "cell path member"), "cell path member.optional");
    if (name == "Int") {
      m.is_int = true;
      m.index = wire_uint(wire_field(*body, "val", "cell path member"), "cell path member.val");
    } else if (name == "String") {
      m.name = wire_string(wire_field(*body, "val", "cell path member"), "cell path member.val");
      if (auto it = body->find("casing"); it != body->end())
        m.case_insensitive = wire_string(*it, "cell path member.casing") == "Insensitive";
    } else {
      throw ProtocolError("cell path member: unknown variant '" + name + "'");
    }
    c.members.push_back(std::move(m));
  }
  return c;
}

Wire custom_to_wire(const CustomValue& c) {
  Wire w{{"type", "PluginCustomValue"}, {"name", c.name}, {"data", bytes_to_wire(c.data)}};
  if (c.notify_on_drop) w["notify_on_drop"] = true;
  return w;
}

CustomValue custom_from_wire(const Wire& w) {
  CustomValue c;
  if (wire_string(wire_field(w, "type", "custom value"), "custom value.type") != "PluginCustomValue")
    throw ProtocolError("custom value: only PluginCustomValue is accepted");
  c.name = wire_string(wire_field(w, "name", "custom value"), "custom value.name");
  c.data = bytes_from_wire(wire_field(w, "data", "custom value"), "custom value.data");
  if (auto it = w.find("notify_on_drop"); it != w.end()) c.notify_on_drop = wire_bool(*it, "custom value.notify_on_drop");
  return c;
}

}  // namespace

Wire to_wire(const LabeledError& e) {
  Wire labels = Wire::array();
  for (const auto& l : e.labels) labels.push_back({{"text", l.text}, {"span", to_wire(l.span)}});
  Wire inner = Wire::array();
  for (const auto& i : e.inner) inner.push_back(to_wire(i));
  return Wire{{"msg", e.msg},
              {"labels", std::move(labels)},
              {"code", e.code ? Wire(*e.code) : Wire(nullptr)},
              {"url", e.url ? Wire(*e.url) : Wire(nullptr)},
              {"help", e.help ? Wire(*e.help) : Wire(nullptr)},
              {"inner", std::move(inner)}};
}

LabeledError labeled_error_from_wire(const Wire& w) {
  LabeledError e;
  e.msg = wire_string(wire_field(w, "msg", "error"), "error.msg");
  auto opt = [&](const char* key) -> std::optional<std::string> {
    auto it = w.find(key);
    if (it == w.end() || it->is_null()) return std::nullopt;
    return wire_string(*it, key);
  };
  e.code = opt("code");
  e.url = opt("url");
  e.help = opt("help");
  if (auto it = w.find("labels"); it != w.end() && !it->is_null()) {
    if (!it->is_array()) throw ProtocolError("error.labels: expected a list");
    for (const auto& l : *it)
      e.labels.push_back({wire_string(wire_field(l, "text", "error label"), "error label.text"),
                          span_from_wire(wire_field(l, "span", "error label"))});
  }
  if (auto it = w.find("inner"); it != w.end() && !it->is_null()) {
    if (!it->is_array()) throw ProtocolError("error.inner: expected a list");
    for (const auto& i : *it) e.inner.push_back(labeled_error_from_wire(i));
  }
  return e;
}

Wire to_wire(const Closure& c, const Dialect& d) {
  Wire caps = Wire::array();
  for (const auto& [var, val] : c.captures) caps.push_back(Wire::array({var, to_wire(val, d)}));
  return Wire{{"block_id", c.block_id}, {"captures", std::move(caps)}};
}

Closure closure_from_wire(const Wire& w) {
  Closure c;
  c.block_id = wire_uint(wire_field(w, "block_id", "closure"), "closure.block_id");
  const Wire& caps = wire_field(w, "captures", "closure");
  if (!caps.is_array()) throw ProtocolError("closure.captures: expected a list");
  for (const auto& cap : caps) {
    if (!cap.is_array() || cap.size() != 2) throw ProtocolError("closure.captures: expected pairs");
    c.captures.emplace_back(wire_uint(cap[0], "closure capture id"), value_from_wire(cap[1]));
  }
  return c;
}

Wire to_wire(const Value& v, const Dialect& d) {
  Wire body = Wire::object();
  const char* tag = "Nothing";
  using T = Value::Type;
  switch (v.type) {
    case T::Bool: tag = "Bool"; body["val"] = v.as_bool(); break;
    case T::Int: tag = "Int"; body["val"] = v.as_int(); break;
    case T::Float: tag = "Float"; body["val"] = v.as_float(); break;
    case T::Filesize: tag = "Filesize"; body["val"] = v.as_int(); break;
    case T::Duration: tag = "Duration"; body["val"] = v.as_int(); break;
    case T::Date: tag = "Date"; body["val"] = v.as_string(); break;
    case T::Range: tag = "Range"; body["val"] = range_to_wire(std::get<Range>(v.payload), d); break;
    case T::String: tag = "String"; body["val"] = to_valid_utf8(v.as_string()); break;
    case T::Glob:
      tag = "Glob";
      body["val"] = to_valid_utf8(v.as_string());
      body["no_expand"] = v.glob_no_expand;
      break;
    case T::Record: {
      tag = "Record";
      Wire rec = Wire::object();
      for (const auto& [k, val] : v.as_record()) rec[to_valid_utf8(k)] = to_wire(val, d);
      body["val"] = std::move(rec);
      break;
    }
    case T::List: {
      tag = "List";
      Wire vals = Wire::array();
      for (const auto& e : v.as_list()) vals.push_back(to_wire(e, d));
      body["vals"] = std::move(vals);
      break;
    }
    case T::Closure: tag = "Closure"; body["val"] = to_wire(std::get<Closure>(v.payload), d); break;
    case T::Nothing: tag = "Nothing"; break;
    case T::Error: tag = "Error"; body["error"] = to_wire(v.as_error()); break;
    case T::Binary: tag = "Binary"; body["val"] = bytes_to_wire(std::get<std::vector<uint8_t>>(v.payload)); break;
    case T::CellPath: tag = "CellPath"; body["val"] = cell_path_to_wire(v.as_cell_path(), d); break;
    case T::Custom: tag = "Custom"; body["val"] = custom_to_wire(std::get<CustomValue>(v.payload)); break;
  }
  body["span"] = to_wire(v.span);
  return Wire{{tag, std::move(body)}};
}

Value value_from_wire(const Wire& w) {
  auto [tag, bodyp] = wire_variant(w, "value");
  if (!bodyp || !bodyp->is_object()) throw ProtocolError("value '" + tag + "': expected a map body");
  const Wire& body = *bodyp;
  Span span = span_from_wire(wire_field(body, "span", tag.c_str()));
  const char* what = tag.c_str();
  auto val = [&]() -> const Wire& { return wire_field(body, "val", what); };
  if (tag == "Bool") return Value::boolean(wire_bool(val(), what), span);
  if (tag == "Int") return Value::integer(wire_int(val(), what), span);
  if (tag == "Float") return Value::floating(wire_float(val(), what), span);
  if (tag == "Filesize") return Value::filesize(wire_int(val(), what), span);
  if (tag == "Duration") return Value::duration(wire_int(val(), what), span);
  if (tag == "Date") return Value::date(wire_string(val(), what), span);
  if (tag == "Range") return Value::range(range_from_wire(val()), span);
  if (tag == "String") return Value::string(wire_string(val(), what), span);
  if (tag == "Glob") {
    bool no_expand = false;
    if (auto it = body.find("no_expand"); it != body.end()) no_expand = wire_bool(*it, what);
    return Value::glob(wire_string(val(), what), no_expand, span);
  }
  if (tag == "Record") {
    const Wire& rec = val();
    if (!rec.is_object()) throw ProtocolError("Record: expected a map");
    Record r;
    r.reserve(rec.size());
    for (auto it = rec.begin(); it != rec.end(); ++it) r.emplace_back(it.key(), value_from_wire(it.value()));
    return Value::record(std::move(r), span);
  }
  if (tag == "List") {
    const Wire& vals = wire_field(body, "vals", what);
    if (!vals.is_array()) throw ProtocolError("List: expected a list");
    std::vector<Value> l;
    l.reserve(vals.size());
    for (const auto& e : vals) l.push_back(value_from_wire(e));
    return Value::list(std::move(l), span);
  }
  if (tag == "Closure") return Value::closure(closure_from_wire(val()), span);
  if (tag == "Nothing") return Value::nothing(span);
  if (tag == "Error") {
    // Nushell names the field "error"; older documents show "val".
    auto it = body.find("error");
    if (it == body.end()) it = body.find("val");
    if (it == body.end()) throw ProtocolError("Error: missing field 'error'");
    return Value::error(labeled_error_from_wire(*it), span);
  }
  if (tag == "Binary") return Value::binary(bytes_from_wire(val(), what), span);
  if (tag == "CellPath") return Value::cell_path(cell_path_from_wire(val()), span);
  if (tag == "Custom") return Value::custom(custom_from_wire(val()), span);
  throw ProtocolError("value: unknown variant '" + tag + "'");
}

// ---- text forms ---------------------------------------------------------------------------

std::string range_to_text(const Range& r) {
  std::string s;
  if (r.is_float) {
    s = float_text(r.float_start) + "..";
    if (r.float_step != 1.0) s += float_text(r.float_start + r.float_step) + "..";
    using K = Bound<double>::Kind;
    if (r.float_end.kind == K::included) s += float_text(r.float_end.value);
    else if (r.float_end.kind == K::excluded) s += "<" + float_text(r.float_end.value);
  } else {
    s = std::to_string(r.int_start) + "..";
    if (r.int_step != 1) s += std::to_string(r.int_start + r.int_step) + "..";
    using K = Bound<int64_t>::Kind;
    if (r.int_end.kind == K::included) s += std::to_string(r.int_end.value);
    else if (r.int_end.kind == K::excluded) s += "<" + std::to_string(r.int_end.value);
  }
  return s;
}

namespace {
struct Num {
  bool is_float = false;
  int64_t i = 0;
  double f = 0;
  double as_f() const { return is_float ? f : static_cast<double>(i); }
};

/// Reads `-?digits` or `-?digits*.digits+` at `pos`; false when none is there.
bool read_number(const std::string& s, size_t& pos, Num& out) {
  size_t p = pos;
  if (p < s.size() && s[p] == '-') ++p;
  size_t digits_start = p;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
  size_t int_digits = p - digits_start;
  if (p + 1 < s.size() && s[p] == '.' && std::isdigit(static_cast<unsigned char>(s[p + 1]))) {
    ++p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
    out.is_float = true;
    out.f = std::strtod(s.substr(pos, p - pos).c_str(), nullptr);
    pos = p;
    return true;
  }
  if (int_digits == 0) return false;
  errno = 0;
  out.is_float = false;
  out.i = std::strtoll(s.substr(pos, p - pos).c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  pos = p;
  return true;
}
}  // namespace

Range range_from_text(const std::string& text) {
  auto bad = [&]() { return ProtocolError("range: cannot read '" + text + "'"); };
  size_t pos = 0;
  Num start, next, end;
  bool has_start = read_number(text, pos, start), has_next = false, has_end = false, exclusive = false;
  if (text.compare(pos, 2, "..") != 0) throw bad();
  pos += 2;
  if (pos < text.size() && text[pos] == '<') {
    exclusive = true;
    ++pos;
    has_end = read_number(text, pos, end);
  } else if (pos < text.size()) {
    Num a;
    if (!read_number(text, pos, a)) throw bad();
    if (text.compare(pos, 2, "..") == 0) {
      pos += 2;
      has_next = true;
      next = a;
      if (pos < text.size() && text[pos] == '<') { exclusive = true; ++pos; }
      has_end = read_number(text, pos, end);
    } else {
      has_end = true;
      end = a;
    }
  }
  if (pos != text.size()) throw bad();
  Range r;
  r.is_float = (has_start && start.is_float) || (has_next && next.is_float) || (has_end && end.is_float);
  if (r.is_float) {
    r.float_start = has_start ? start.as_f() : 0.0;
    r.float_step = has_next ? next.as_f() - r.float_start : 1.0;
    if (has_end) r.float_end = {exclusive ? Bound<double>::Kind::excluded : Bound<double>::Kind::included, end.as_f()};
  } else {
    r.int_start = has_start ? start.i : 0;
    r.int_step = has_next ? next.i - r.int_start : 1;
    if (has_end) r.int_end = {exclusive ? Bound<int64_t>::Kind::excluded : Bound<int64_t>::Kind::included, end.i};
  }
  return r;
}

namespace {
bool needs_quoting(const std::string& s) {
  if (s.empty()) return true;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return true;
  for (char c : s)
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '!' || c == '?' || c == '.' || c == '(' ||
        c == ')' || c == '"' || c == '\'' || c == '`' || c == '\\' || c == '$')
      return true;
  return false;
}

std::string quote_member(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}
}  // namespace

std::string cell_path_to_text(const CellPath& c) {
  std::string s = "$";
  for (const auto& m : c.members) {
    s += '.';
    if (m.is_int) {
      s += std::to_string(m.index);
    } else {
      s += needs_quoting(m.name) ? quote_member(m.name) : m.name;
      if (m.case_insensitive) s += '!';
    }
    if (m.optional) s += '?';
  }
  if (c.members.empty()) s += '.';
  return s;
}

CellPath cell_path_from_text(const std::string& text) {
  auto bad = [&](const char* why) { return ProtocolError("cell path: cannot read '" + text + "': " + why); };
  CellPath c;
  size_t p = 0;
  if (text.compare(0, 2, "$.") == 0) p = 2;
  else if (text == "$") return c;
  while (p < text.size()) {
    PathMember m;
    char ch = text[p];
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      size_t q = p;
      while (q < text.size() && (std::isdigit(static_cast<unsigned char>(text[q])) || text[q] == '_')) ++q;
      std::string digits;
      for (size_t i = p; i < q; ++i) if (text[i] != '_') digits += text[i];
      m.is_int = true;
      m.index = std::strtoull(digits.c_str(), nullptr, 10);
      p = q;
    } else if (ch == '\'' || ch == '`') {
      size_t q = text.find(ch, p + 1);
      if (q == std::string::npos) throw bad("unterminated quote");
      m.name = text.substr(p + 1, q - p - 1);
      p = q + 1;
    } else if (ch == '"') {
      ++p;
      bool closed = false;
      while (p < text.size()) {
        char d = text[p++];
        if (d == '"') { closed = true; break; }
        if (d == '\\' && p < text.size()) {
          char e = text[p++];
          switch (e) {
            case 'n': m.name += '\n'; break;
            case 'r': m.name += '\r'; break;
            case 't': m.name += '\t'; break;
            default: m.name += e;
          }
        } else {
          m.name += d;
        }
      }
      if (!closed) throw bad("unterminated quote");
    } else {
      while (p < text.size() && text[p] != '.' && text[p] != '!' && text[p] != '?' && text[p] != ' ' &&
             text[p] != '(' && text[p] != ')')
        m.name += text[p++];
    }
    while (p < text.size() && (text[p] == '!' || text[p] == '?')) {
      if (text[p] == '!') m.case_insensitive = true;
      else m.optional = true;
      ++p;
    }
    c.members.push_back(std::move(m));
    if (p < text.size()) {
      if (text[p] != '.') throw bad("expected '.'");
      ++p;
    }
  }
  return c;
}

}  // namespace prov::plugin
