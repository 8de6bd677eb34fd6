#include "plugin/protocol/direct_input.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <vector>

namespace prov::plugin {

namespace {

/// Thrown inside the readers when the message is not one they read: the caller falls back.
struct Unread {};

// Both sources offer the same calls: map() then key(k) until it is false, array() then item()
// until it is false, and the scalars. Whatever a source is not sure of, it refuses (Unread):
// the Wire path is always right, the direct one only has to be right when it answers.

/// A cursor over one MessagePack item. Every read checks the bytes it needs.
class MsgpackSource {
 public:
  MsgpackSource(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool at_end() const { return p_ == end_; }
  bool is_str() const {
    return p_ < end_ && ((peek() >= 0xa0 && peek() <= 0xbf) || (peek() >= 0xd9 && peek() <= 0xdb));
  }
  bool is_map() const { return p_ < end_ && ((peek() >= 0x80 && peek() <= 0x8f) || peek() == 0xde || peek() == 0xdf); }
  bool is_nil() const { return p_ < end_ && peek() == 0xc0; }
  void map() { left_.push_back(count(true)); }
  void array() { left_.push_back(count(false)); }
  bool key(std::string_view& k) {
    if (!item()) return false;
    k = str();
    return true;
  }
  bool item() {
    if (left_.back() == 0) {
      left_.pop_back();
      return false;
    }
    --left_.back();
    return true;
  }
  std::string_view str() {
    const uint8_t b = peek();
    uint64_t n;
    if (b >= 0xa0 && b <= 0xbf)
      n = b & 0x1fu, ++p_;
    else if (b >= 0xd9 && b <= 0xdb)
      ++p_, n = be(size_t{1} << (b - 0xd9));
    else
      throw Unread{};
    if (static_cast<uint64_t>(end_ - p_) < n) throw Unread{};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  /// An integer as msgpack-c gives it: non-negative ones as unsigned, negative ones as signed.
  bool integer(uint64_t& u, int64_t& i) {
    const uint8_t b = peek();
    if (b <= 0x7f) return ++p_, u = b, true;
    if (b >= 0xe0) return ++p_, i = static_cast<int8_t>(b), false;
    ++p_;
    switch (b) {
      case 0xcc: return u = be(1), true;
      case 0xcd: return u = be(2), true;
      case 0xce: return u = be(4), true;
      case 0xcf: return u = be(8), true;
      case 0xd0: i = static_cast<int8_t>(be(1)); break;
      case 0xd1: i = static_cast<int16_t>(be(2)); break;
      case 0xd2: i = static_cast<int32_t>(be(4)); break;
      case 0xd3: i = static_cast<int64_t>(be(8)); break;
      default: throw Unread{};
    }
    if (i >= 0) return u = static_cast<uint64_t>(i), true;  // msgpack-c reads these as positive
    return false;
  }
  double f64() {
    const uint8_t b = peek();
    if (b == 0xcb) {
      ++p_;
      const uint64_t bits = be(8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    if (b == 0xca) {
      ++p_;
      const auto bits = static_cast<uint32_t>(be(4));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    uint64_t u = 0;
    int64_t i = 0;
    return integer(u, i) ? static_cast<double>(u) : static_cast<double>(i);
  }
  bool boolean() {
    const uint8_t b = peek();
    if (b != 0xc2 && b != 0xc3) throw Unread{};
    ++p_;
    return b == 0xc3;
  }
  void nil() {
    if (peek() != 0xc0) throw Unread{};
    ++p_;
  }
  /// Skips one item with all its members. What the Wire path refuses anywhere in a message (a
  /// map key that is no string, an ext) is refused here too. The codec's framing has bounded
  /// the nesting, and with it the recursion.
  void skip() {
    const uint8_t b = peek();
    if (is_map()) {
      map();
      for (std::string_view k; key(k);) skip();
      return;
    }
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
      array();
      while (item()) skip();
      return;
    }
    ++p_;
    uint64_t payload = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b <= 0xbf)
      payload = b & 0x1fu;  // fixstr
    else if (b >= 0xc4 && b <= 0xc6)
      payload = be(size_t{1} << (b - 0xc4));
    else if (b == 0xca || b == 0xcb)
      payload = b == 0xca ? 4 : 8;
    else if (b >= 0xcc && b <= 0xd3)
      payload = size_t{1} << ((b - 0xcc) % 4);
    else if (b >= 0xd9 && b <= 0xdb)
      payload = be(size_t{1} << (b - 0xd9));
    else
      throw Unread{};  // 0xc1 and the ext types
    if (static_cast<uint64_t>(end_ - p_) < payload) throw Unread{};
    p_ += payload;
  }

 private:
  uint8_t peek() const {
    if (p_ >= end_) throw Unread{};
    return static_cast<uint8_t>(*p_);
  }
  uint64_t be(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) throw Unread{};
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p_[i]);
    p_ += n;
    return v;
  }
  uint64_t count(bool map) {
    const uint8_t b = peek();
    const uint8_t fix = map ? 0x80 : 0x90, m16 = map ? 0xde : 0xdc;
    ++p_;
    if (b >= fix && b <= fix + 0x0f) return b & 0x0fu;
    if (b == m16) return be(2);
    if (b == m16 + 1) return be(4);
    throw Unread{};
  }

  const char* p_;
  const char* end_;
  std::vector<uint64_t> left_;  ///< items still due in each open map (key and value) or array
};

/// A cursor over one JSON document. Reads strings of printable ASCII without escapes and
/// integers; refuses the rest, which nlohmann's parser (the Wire path) checks in full.
class JsonSource {
 public:
  JsonSource(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool at_end() {
    ws();
    return p_ == end_;
  }
  bool is_str() { return next() == '"'; }
  bool is_map() { return next() == '{'; }
  bool is_nil() { return next() == 'n'; }
  void map() { open('{'); }
  void array() { open('['); }
  bool key(std::string_view& k) {
    if (!more('}')) return false;
    k = str();
    if (next() != ':') throw Unread{};
    ++p_;
    return true;
  }
  bool item() { return more(']'); }
  std::string_view str() {
    if (next() != '"') throw Unread{};
    const char* s = ++p_;
    while (p_ < end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') throw Unread{};
      ++p_;
    }
    if (p_ == end_) throw Unread{};
    return std::string_view(s, static_cast<size_t>(p_++ - s));
  }
  /// An integer as nlohmann gives it: unsigned without a sign, signed with one (-0 is 0).
  bool integer(uint64_t& u, int64_t& i) {
    const std::string_view t = number();
    if (t.find_first_of(".eE") != std::string_view::npos) throw Unread{};
    const bool negative = t.front() == '-';
    const auto r = negative ? std::from_chars(t.data(), t.data() + t.size(), i)
                            : std::from_chars(t.data(), t.data() + t.size(), u);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) throw Unread{};
    if (negative && i == 0) return u = 0, true;
    return !negative;
  }
  double f64() {
    const std::string_view t = number();
    double d;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) throw Unread{};
    return d;
  }
  bool boolean() {
    if (literal("true")) return true;
    if (literal("false")) return false;
    throw Unread{};
  }
  void nil() {
    if (!literal("null")) throw Unread{};
  }
  void skip() {
    const char c = next();
    if (c == '{') {
      map();
      for (std::string_view k; key(k);) skip();
    } else if (c == '[') {
      array();
      while (item()) skip();
    } else if (c == '"') {
      str();
    } else if (c == 't' || c == 'f') {
      boolean();
    } else if (c == 'n') {
      nil();
    } else {
      f64();  // a number: one the Wire path reads as finite
    }
  }

 private:
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  /// The next byte after whitespace, or 0 at the end.
  char next() {
    ws();
    return p_ < end_ ? *p_ : '\0';
  }
  void open(char bracket) {
    if (next() != bracket) throw Unread{};
    ++p_;
    first_.push_back(true);
  }
  /// Whether another member follows in the open container that `close` ends.
  bool more(char close) {
    const char c = next();
    if (c == close) {
      ++p_;
      first_.pop_back();
      return false;
    }
    if (!first_.back()) {
      if (c != ',') throw Unread{};
      ++p_;
    }
    first_.back() = false;
    return true;
  }
  bool literal(std::string_view word) {
    ws();
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    if (p_ < end_ && std::isalnum(static_cast<unsigned char>(*p_))) throw Unread{};
    return true;
  }
  /// The text of a number that follows JSON's grammar, with a delimiter after it.
  std::string_view number() {
    ws();
    const char* s = p_;
    auto digits = [&] {
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) throw Unread{};
      return p_ - d;
    };
    if (p_ < end_ && *p_ == '-') ++p_;
    const char* int_start = p_;
    if (digits() > 1 && *int_start == '0') throw Unread{};
    if (p_ < end_ && *p_ == '.') ++p_, digits();
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
    }
    if (p_ < end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\t' && *p_ != '\n' && *p_ != '\r')
      throw Unread{};
    return std::string_view(s, static_cast<size_t>(p_ - s));
  }

  const char* p_;
  const char* end_;
  std::vector<bool> first_;  ///< per open container: no member read yet
};

template <class R>
uint64_t read_uint(R& r) {
  uint64_t u = 0;
  int64_t i = 0;
  if (!r.integer(u, i)) throw Unread{};
  return u;
}

template <class R>
int64_t read_sint(R& r) {
  uint64_t u = 0;
  int64_t i = 0;
  if (!r.integer(u, i)) return i;
  if (u > static_cast<uint64_t>(INT64_MAX)) throw Unread{};
  return static_cast<int64_t>(u);
}

/// The name of a one-entry map `{"Name": body}`; the body is read next, then end_variant.
template <class R>
std::string_view variant(R& r) {
  r.map();
  std::string_view name;
  if (!r.key(name)) throw Unread{};
  return name;
}

template <class R>
void end_variant(R& r) {
  if (std::string_view more; r.key(more)) throw Unread{};
}

/// Keys met in one map: a repeated known key is left to the Wire path, whose map keeps the last.
struct Seen {
  unsigned bits = 0;
  void operator()(unsigned bit) {
    if (bits & bit) throw Unread{};
    bits |= bit;
  }
};

template <class R>
Span read_span(R& r) {
  Span s;
  Seen seen;
  r.map();
  for (std::string_view k; r.key(k);) {
    if (k == "start")
      seen(1), s.start = read_uint(r);
    else if (k == "end")
      seen(2), s.end = read_uint(r);
    else
      r.skip();
  }
  if (seen.bits != 3) throw Unread{};
  return s;
}

template <class R>
Value read_value(R& r);

/// The members of a Record's map, refusing repeated keys (the Wire path keeps the last).
template <class R>
Record read_record(R& r) {
  Record rec;
  r.map();
  for (std::string_view k; r.key(k);) rec.emplace_back(std::string(k), read_value(r));
  if (rec.size() > 1) {
    std::vector<std::string_view> keys;
    keys.reserve(rec.size());
    for (const auto& [k, v] : rec) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) throw Unread{};
  }
  return rec;
}

/// The common kinds of Value; the rest (ranges, closures, errors, binaries, cell paths, custom
/// values) are left to the Wire path.
template <class R>
Value read_value(R& r) {
  const std::string_view tag = variant(r);
  enum : unsigned { kVal = 1, kSpan = 2, kNoExpand = 4 };
  const bool is_list = tag == "List";
  Value v;
  using T = Value::Type;
  if (tag == "Bool")
    v.type = T::Bool;
  else if (tag == "Int")
    v.type = T::Int;
  else if (tag == "Float")
    v.type = T::Float;
  else if (tag == "Filesize")
    v.type = T::Filesize;
  else if (tag == "Duration")
    v.type = T::Duration;
  else if (tag == "Date")
    v.type = T::Date;
  else if (tag == "String")
    v.type = T::String;
  else if (tag == "Glob")
    v.type = T::Glob;
  else if (tag == "Record")
    v.type = T::Record;
  else if (is_list)
    v.type = T::List;
  else if (tag == "Nothing")
    v.type = T::Nothing;
  else
    throw Unread{};
  Seen seen;
  r.map();
  for (std::string_view k; r.key(k);) {
    if (k == "span") {
      seen(kSpan);
      v.span = read_span(r);
    } else if (k == (is_list ? "vals" : "val") && v.type != T::Nothing) {
      seen(kVal);
      switch (v.type) {
        case T::Bool: v.payload = r.boolean(); break;
        case T::Int:
        case T::Filesize:
        case T::Duration: v.payload = read_sint(r); break;
        case T::Float: v.payload = r.f64(); break;
        case T::Date:
        case T::String:
        case T::Glob: v.payload = std::string(r.str()); break;
        case T::Record: v.payload = read_record(r); break;
        case T::List: {
          std::vector<Value> l;
          r.array();
          while (r.item()) l.push_back(read_value(r));
          v.payload = std::move(l);
          break;
        }
        default: throw Unread{};
      }
    } else if (k == "no_expand" && v.type == T::Glob) {
      seen(kNoExpand);
      v.glob_no_expand = r.boolean();
    } else {
      r.skip();
    }
  }
  if (!(seen.bits & kSpan) || (v.type != T::Nothing && !(seen.bits & kVal))) throw Unread{};
  end_variant(r);
  return v;
}

/// `[a, b, …]` with at least two items: reads the first two with `two`, skips the rest.
template <class R, class F>
void read_pair(R& r, F&& two) {
  r.array();
  if (!r.item()) throw Unread{};
  two([&] {
    if (!r.item()) throw Unread{};
  });
  while (r.item()) r.skip();
}

template <class R>
EvaluatedCall read_call(R& r) {
  EvaluatedCall c;
  Seen seen;
  r.map();
  for (std::string_view k; r.key(k);) {
    if (k == "head") {
      seen(1);
      c.head = read_span(r);
    } else if (k == "positional") {
      seen(2);
      r.array();
      while (r.item()) c.positional.push_back(read_value(r));
    } else if (k == "named") {
      seen(4);
      r.array();
      while (r.item()) {
        NamedArg arg;
        read_pair(r, [&](auto&& second) {
          if (r.is_str()) {
            arg.name = std::string(r.str());
          } else {
            Seen name_seen;
            r.map();
            for (std::string_view nk; r.key(nk);) {
              if (nk == "item")
                name_seen(1), arg.name = std::string(r.str());
              else if (nk == "span")
                name_seen(2), arg.name_span = read_span(r);
              else
                r.skip();
            }
            if (name_seen.bits != 3) throw Unread{};
          }
          second();
          if (r.is_nil())
            r.nil();
          else
            arg.value = read_value(r);
        });
        c.named.push_back(std::move(arg));
      }
    } else {
      r.skip();
    }
  }
  if (seen.bits != 7) throw Unread{};
  return c;
}

template <class R>
PipelineDataHeader read_header(R& r) {
  PipelineDataHeader h;
  if (r.is_str()) {
    if (r.str() != "Empty") throw Unread{};
    return h;
  }
  const std::string_view name = variant(r);
  if (name == "Value") {
    h.kind = PipelineDataHeader::Kind::Value;
    // (Value, Option<PipelineMetadata>) since 0.9x; a bare Value in older documents.
    if (r.is_map()) {
      h.value = read_value(r);
    } else {
      r.array();
      if (!r.item()) throw Unread{};
      h.value = read_value(r);
      while (r.item()) r.skip();
    }
    h.span = h.value->span;
    end_variant(r);
    return h;
  }
  const bool list = name == "ListStream";
  if (!list && name != "ByteStream") throw Unread{};
  h.kind = list ? PipelineDataHeader::Kind::ListStream : PipelineDataHeader::Kind::ByteStream;
  Seen seen;
  r.map();
  for (std::string_view k; r.key(k);) {
    if (k == "id")
      seen(1), h.stream_id = read_uint(r);
    else if (k == "span")
      seen(2), h.span = read_span(r);
    else if (k == "type" && !list)
      seen(4), h.byte_stream_type = std::string(r.str());
    else
      r.skip();
  }
  if ((seen.bits & 3) != 3) throw Unread{};
  if (!list && !(seen.bits & 4)) h.byte_stream_type = "Unknown";
  end_variant(r);
  return h;
}

template <class R>
RunCall read_run(R& r) {
  RunCall run;
  Seen seen;
  r.map();
  for (std::string_view k; r.key(k);) {
    if (k == "name")
      seen(1), run.name = std::string(r.str());
    else if (k == "call")
      seen(2), run.call = read_call(r);
    else if (k == "input")
      seen(4), run.input = read_header(r);
    else
      r.skip();
  }
  if (seen.bits != 7) throw Unread{};
  return run;
}

template <class R>
PluginInput read_message(R& r) {
  PluginInput in;
  using K = PluginInput::Kind;
  if (r.is_str()) {
    if (r.str() != "Goodbye") throw Unread{};
    in.kind = K::Goodbye;
    return in;
  }
  const std::string_view name = variant(r);
  if (name == "Call") {
    in.kind = K::Call;
    read_pair(r, [&](auto&& second) {
      in.id = read_uint(r);
      second();
      if (r.is_str()) {
        const std::string_view call = r.str();
        if (call == "Metadata")
          in.call.kind = PluginCall::Kind::Metadata;
        else if (call == "Signature")
          in.call.kind = PluginCall::Kind::Signature;
        else
          throw Unread{};
        in.call.variant = std::string(call);
      } else {
        if (variant(r) != "Run") throw Unread{};
        in.call.kind = PluginCall::Kind::Run;
        in.call.variant = "Run";
        in.call.run = read_run(r);
        end_variant(r);
      }
    });
  } else if (name == "Data") {
    in.kind = K::Data;
    read_pair(r, [&](auto&& second) {
      in.id = read_uint(r);
      second();
      if (variant(r) != "List") throw Unread{};
      in.data.is_list = true;
      in.data.value = read_value(r);
      end_variant(r);
    });
  } else if (name == "Ack" || name == "Drop" || name == "End") {
    in.kind = name == "Ack" ? K::Ack : name == "Drop" ? K::Drop : K::End;
    in.id = read_uint(r);
  } else if (name == "Signal") {
    in.kind = K::Signal;
    in.signal = std::string(r.str());
    if (in.signal != "Interrupt" && in.signal != "Reset") throw Unread{};
  } else {
    throw Unread{};
  }
  end_variant(r);
  return in;
}

template <class R>
std::optional<PluginInput> read_input(std::string_view bytes) {
  R r(bytes);
  try {
    PluginInput in = read_message(r);
    if (!r.at_end()) return std::nullopt;  // more than one item
    return in;
  } catch (const Unread&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<PluginInput> read_msgpack_input(std::string_view bytes) { return read_input<MsgpackSource>(bytes); }

std::optional<PluginInput> read_json_input(std::string_view text) { return read_input<JsonSource>(text); }

}  // namespace prov::plugin
