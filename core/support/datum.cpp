#include "core/support/datum.hpp"

#include "core/support/duration.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace prov {

const Datum* Datum::find(std::string_view key) const {
  if (!is_record()) return nullptr;
  for (const auto& [k, val] : record())
    if (k == key) return &val;
  return nullptr;
}

Datum* Datum::find(std::string_view key) {
  return const_cast<Datum*>(static_cast<const Datum*>(this)->find(key));
}

void Datum::set(std::string key, Datum value) {
  if (Datum* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  record().emplace_back(std::move(key), std::move(value));
}

std::string Datum::a_type_name() const {
  const std::string t = type_name();
  return (t.empty() || std::string_view("aeiou").find(t[0]) == std::string_view::npos ? "a " : "an ") + t;
}

std::string Datum::type_name() const {
  struct Visitor {
    std::string operator()(std::monostate) const { return "nothing"; }
    std::string operator()(bool) const { return "bool"; }
    std::string operator()(int64_t) const { return "int"; }
    std::string operator()(double) const { return "float"; }
    std::string operator()(const std::string&) const { return "string"; }
    std::string operator()(const DateTime&) const { return "datetime"; }
    std::string operator()(const Duration&) const { return "duration"; }
    std::string operator()(const DatumList&) const { return "list"; }
    std::string operator()(const DatumRecord&) const { return "record"; }
  };
  return std::visit(Visitor{}, v);
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string to_display(const Datum& d) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double x) const {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", x);
      // Prefer the shortest text that reads back as the same number.
      for (int prec = 1; prec <= 17; ++prec) {
        char shorter[64];
        std::snprintf(shorter, sizeof shorter, "%.*g", prec, x);
        if (std::strtod(shorter, nullptr) == x) return shorter;
      }
      return buf;
    }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const DateTime& t) const { return t.rfc3339; }
    std::string operator()(const Duration& du) const { return format_duration(du); }  // "1m30s", as written
    std::string operator()(const DatumList& l) const {
      std::string out = "[";
      for (size_t i = 0; i < l.size(); ++i) {
        if (i) out += ", ";
        out += l[i].is_string() ? quote(l[i].str()) : to_display(l[i]);
      }
      return out + "]";
    }
    std::string operator()(const DatumRecord& r) const {
      std::string out = "{";
      for (size_t i = 0; i < r.size(); ++i) {
        if (i) out += ", ";
        out += r[i].first + ": ";
        out += r[i].second.is_string() ? quote(r[i].second.str()) : to_display(r[i].second);
      }
      return out + "}";
    }
  };
  return std::visit(Visitor{}, d.v);
}

}  // namespace prov
