#include "core/support/datum_json.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/support/error.hpp"

namespace prov {

using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kInvalid = "provisioning::json::invalid";

[[noreturn]] void invalid(const std::string& message) {
  throw ResourceError(kInvalid, message,
                      "the JSON was not written by this program, or was damaged");
}

std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2) invalid("\"$bytes\" holds an odd number of hex digits");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) invalid("\"$bytes\" holds a character that is not a lowercase hex digit");
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

Json tagged(const char* tag, Json value) {
  Json j = Json::object();
  j[tag] = std::move(value);
  return j;
}

/// Text as a JSON string, or {"$bytes": hex} when it is not UTF-8 (JSON text must be).
Json text_to_json(const std::string& s) {
  return is_valid_utf8(s) ? Json(s) : tagged("$bytes", to_hex(s));
}

std::string bytes_from_json(const Json& hex) {
  if (!hex.is_string()) invalid("\"$bytes\" must hold a string of hex digits");
  return from_hex(hex.get<std::string>());
}

std::string text_from_json(const Json& j, const char* what) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.size() == 1 && j.begin().key() == "$bytes")
    return bytes_from_json(*j.begin());
  invalid(std::string(what) + " must be a string, found " + j.type_name());
}

bool needs_escape(const DatumRecord& r) {
  if (r.size() == 1 && !r[0].first.empty() && r[0].first[0] == '$') return true;
  for (const auto& [k, v] : r)
    if (!is_valid_utf8(k)) return true;
  return false;
}

int64_t int_from_json(const Json& j, const char* what) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    const auto u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      invalid(std::string(what) + " " + std::to_string(u) + " is beyond a 64-bit signed integer");
    return static_cast<int64_t>(u);
  }
  invalid(std::string(what) + " must be an integer, found " + j.type_name());
}

Datum tag_from_json(const std::string& tag, const Json& value) {
  if (tag == "$date") return DateTime{text_from_json(value, "\"$date\"")};
  if (tag == "$duration") return Duration{int_from_json(value, "\"$duration\"")};
  if (tag == "$bytes") return bytes_from_json(value);
  if (tag == "$float") {
    const std::string s = value.is_string() ? value.get<std::string>() : std::string();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    invalid("\"$float\" must be \"nan\", \"inf\" or \"-inf\"");
  }
  // $record
  if (!value.is_array()) invalid("\"$record\" must be a list of [key, value] pairs");
  DatumRecord r;
  for (const Json& pair : value) {
    if (!pair.is_array() || pair.size() != 2)
      invalid("\"$record\" must be a list of [key, value] pairs");
    r.emplace_back(text_from_json(pair[0], "a \"$record\" key"), datum_from_json(pair[1]));
  }
  return r;
}

bool is_tag(const std::string& key) {
  return key == "$date" || key == "$duration" || key == "$float" || key == "$bytes" ||
         key == "$record";
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Json datum_to_json(const Datum& d) {
  struct Visitor {
    Json operator()(std::monostate) const { return nullptr; }
    Json operator()(bool b) const { return b; }
    Json operator()(int64_t i) const { return i; }
    Json operator()(double x) const {
      if (std::isnan(x)) return tagged("$float", "nan");
      if (std::isinf(x)) return tagged("$float", x > 0 ? "inf" : "-inf");
      return x;
    }
    Json operator()(const std::string& s) const { return text_to_json(s); }
    Json operator()(const DateTime& t) const { return tagged("$date", text_to_json(t.rfc3339)); }
    Json operator()(const Duration& du) const { return tagged("$duration", du.nanos); }
    Json operator()(const DatumList& l) const {
      Json arr = Json::array();
      for (const Datum& e : l) arr.push_back(datum_to_json(e));
      return arr;
    }
    Json operator()(const DatumRecord& r) const {
      if (needs_escape(r)) {
        Json pairs = Json::array();
        for (const auto& [k, v] : r)
          pairs.push_back(Json::array({text_to_json(k), datum_to_json(v)}));
        return tagged("$record", std::move(pairs));
      }
      Json obj = Json::object();
      for (const auto& [k, v] : r) obj[k] = datum_to_json(v);
      return obj;
    }
  };
  return std::visit(Visitor{}, d.v);
}

Datum datum_from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return nullptr;
    case Json::value_t::boolean:
      return j.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return int_from_json(j, "an integer");
    case Json::value_t::number_float:
      return j.get<double>();
    case Json::value_t::string:
      return j.get<std::string>();
    case Json::value_t::array: {
      DatumList l;
      l.reserve(j.size());
      for (const Json& e : j) l.push_back(datum_from_json(e));
      return l;
    }
    case Json::value_t::object: {
      if (j.size() == 1 && is_tag(j.begin().key()))
        return tag_from_json(j.begin().key(), *j.begin());
      DatumRecord r;
      r.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) r.emplace_back(it.key(), datum_from_json(*it));
      return r;
    }
    default:
      invalid(std::string("JSON ") + j.type_name() + " has no Datum");
  }
}

std::string encode_json(const Datum& d) { return datum_to_json(d).dump(); }

Datum decode_json(std::string_view text) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    invalid(std::string("not JSON: ") + e.what());
  }
  return datum_from_json(j);
}

}  // namespace prov
