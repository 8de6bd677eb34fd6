#include "core/support/datum_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
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

/// read_plain_json's parser: one pass, no recursion. Finished members of the open lists and
/// records wait on a stack and move into a container of the right size when it closes.
class PlainJsonReader {
 public:
  PlainJsonReader(std::string_view text, size_t max_depth, const PlainJsonItems* items = nullptr)
      : p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth),
        items_(items) {}

  /// The most lists and records open at once while reading.
  size_t deepest() const { return deepest_; }

  std::optional<Datum> read() {
    skip_space();
    while (true) {
      if (!value()) return std::nullopt;
      // A value is complete: close what it completes, then find where the next one starts.
      while (true) {
        skip_space();
        if (open_.empty()) {
          if (p_ != end_) return std::nullopt;
          return std::move(values_.back());
        }
        if (p_ == end_) return std::nullopt;
        const Open& top = open_.back();
        // A member of the handed-out list is complete: it goes to the items' owner.
        if (top.handed_out && (*p_ == ',' || *p_ == ']')) {
          items_->each(std::move(values_.back()));
          values_.pop_back();
        }
        if (*p_ == ',') {
          ++p_;
          skip_space();
          if (top.record && !key()) return std::nullopt;
          break;
        }
        if (*p_ != (top.record ? '}' : ']')) return std::nullopt;
        ++p_;
        if (!close()) return std::nullopt;
      }
    }
  }

 private:
  struct Open {
    bool record;
    size_t first;  ///< where its members start in values_ (and keys_, for a record)
    bool handed_out = false;  ///< the list under items_->key of the top-level record
  };

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  /// One value, or the opening of a list or record (then positioned at its first member).
  bool value() {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
      case '[': {
        const bool record = *p_ == '{';
        if (open_.size() >= max_depth_) return false;
        const bool handed_out =
            !record && items_ && open_.size() == 1 && open_[0].record && keys_.back() == items_->key;
        if (handed_out && items_->expect) items_->expect(count_members(p_));
        ++p_;
        open_.push_back({record, values_.size(), handed_out});
        deepest_ = std::max(deepest_, open_.size());
        skip_space();
        if (p_ != end_ && *p_ == (record ? '}' : ']')) {
          ++p_;
          return close();
        }
        if (record) return key() && value();
        return value();
      }
      case '"': {
        std::string s;
        if (!string(s)) return false;
        values_.emplace_back(std::move(s));
        return true;
      }
      case 't':
        return literal("true", Datum(true));
      case 'f':
        return literal("false", Datum(false));
      case 'n':
        return literal("null", Datum());
      default:
        return number();
    }
  }

  bool literal(std::string_view word, Datum d) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    values_.push_back(std::move(d));
    return true;
  }

  /// The members of the list opening at `at`, counted without reading them (for a list that
  /// is not well formed, some number).
  size_t count_members(const char* at) const {
    size_t depth = 0, commas = 0;
    bool any = false;
    for (const char* c = at; c != end_; ++c) {
      switch (*c) {
        case '"':
          for (++c; c != end_ && *c != '"'; ++c)
            if (*c == '\\' && c + 1 != end_) ++c;
          if (c == end_) return commas + 1;
          any = true;
          break;
        case '[':
        case '{':
          if (depth++ == 1) any = true;
          break;
        case ']':
        case '}':
          if (--depth == 0) return any ? commas + 1 : 0;
          break;
        case ',': commas += depth == 1; break;
        case ' ':
        case '\n':
        case '\r':
        case '\t': break;
        default: any = true;
      }
    }
    return commas + 1;
  }

  /// `"key":`, leaving the reader at the member's value.
  bool key() {
    if (p_ == end_ || *p_ != '"') return false;
    std::string k;
    if (!string(k)) return false;
    keys_.push_back(std::move(k));
    skip_space();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    skip_space();
    return true;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    const char* digits = p_;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    } else {
      return false;
    }
    const size_t count = static_cast<size_t>(p_ - digits);
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && is_digit(*p_)) return false;  // "01"
    if (!is_float) {
      if (count > 18) return false;
      int64_t n = 0;
      for (const char* d = digits; d != p_; ++d) n = n * 10 + (*d - '0');
      values_.emplace_back(digits == start ? n : -n);
      return true;
    }
    double x = 0;
    const auto [at, ec] = std::from_chars(start, p_, x);
    if (ec != std::errc() || at != p_ || !std::isfinite(x)) return false;
    values_.emplace_back(x);
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_digit(p_[i]);
      if (h < 0) return false;
      out = out << 4 | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | cp >> 6);
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xe0 | cp >> 12);
      s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xf0 | cp >> 18);
      s += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  /// A string from its opening quote on.
  bool string(std::string& out) {
    ++p_;
    bool high = false;  // bytes beyond ASCII: checked as UTF-8 at the end
    const char* run = p_;
    while (true) {
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20) break;
        high |= c >= 0x80;
        ++p_;
      }
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
      out.append(run, p_);
      if (*p_ == '"') {
        ++p_;
        return !high || is_valid_utf8(out);
      }
      ++p_;  // the backslash
      if (p_ == end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
      run = p_;
    }
  }

  /// Ends the innermost list or record: its members become one value.
  bool close() {
    const Open top = open_.back();
    open_.pop_back();
    const size_t n = values_.size() - top.first;
    const auto members = values_.begin() + static_cast<std::ptrdiff_t>(top.first);
    if (!top.record) {
      DatumList list(std::make_move_iterator(members), std::make_move_iterator(values_.end()));
      values_.erase(members, values_.end());
      values_.emplace_back(std::move(list));
      return true;
    }
    const size_t first_key = keys_.size() - n;
    if (has_repeats(first_key)) return false;
    DatumRecord record;
    record.reserve(n);
    for (size_t k = 0; k < n; ++k)
      record.emplace_back(std::move(keys_[first_key + k]),
                          std::move(members[static_cast<std::ptrdiff_t>(k)]));
    keys_.resize(first_key);
    values_.erase(members, values_.end());
    values_.emplace_back(std::move(record));
    return true;
  }

  /// Whether a key from `first` on appears twice; long records are left to the other parser.
  bool has_repeats(size_t first) const {
    const size_t n = keys_.size() - first;
    if (n > 32) return true;
    for (size_t i = first + 1; i < keys_.size(); ++i)
      for (size_t j = first; j < i; ++j)
        if (keys_[i] == keys_[j]) return true;
    return false;
  }

  const char* p_;
  const char* end_;
  size_t max_depth_;
  const PlainJsonItems* items_;
  size_t deepest_ = 0;
  std::vector<Open> open_;         ///< the lists and records being read, innermost last
  std::vector<Datum> values_;      ///< finished members of the open containers, then the result
  std::vector<std::string> keys_;  ///< keys of the open records' members, in step with values_
};

}  // namespace

std::optional<Datum> read_plain_json(std::string_view text, size_t max_depth) {
  return PlainJsonReader(text, max_depth).read();
}

std::optional<Datum> read_plain_json(std::string_view text, size_t max_depth, const PlainJsonItems& items,
                                     size_t* depth) {
  PlainJsonReader reader(text, max_depth, &items);
  std::optional<Datum> doc = reader.read();
  if (depth) *depth = reader.deepest();
  return doc;
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
