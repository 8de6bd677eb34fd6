// nu_plugin_responder: the smallest correct Nushell plugin, used as the floor of the per-call
// benchmarks. No library: the scanners below read just enough of each message to answer it.
// Two commands:
//   responder          answers the Int 42
//   responder version  answers the very record `prov version` answers (same fields, same order,
//                      same values, every span the call's head), so that the engine's decoding
//                      of the answer costs the same on both sides
// It speaks JSON or MessagePack, chosen as nu_plugin_provisioning chooses it: the environment
// variable PROVISIONING_PLUGIN_ENCODING ("json" when unset, the responder's historical floor).
//
// Protocol, in order: write the encoding's name and flush (the engine waits for it); read the
// engine's Hello and answer with the same version; answer Metadata, Signature and Run calls;
// exit on "Goodbye" or end of input. Everything else the engine sends is read and ignored.

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#ifndef RESPONDER_PLUGIN_VERSION
#error "RESPONDER_PLUGIN_VERSION must name nu_plugin_provisioning's version (bench/CMakeLists.txt)"
#endif

namespace {

/// Writes all of `s` to stdout in as few syscalls as the kernel allows; false on a closed pipe.
bool write_all(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// ---- writing: the same calls make JSON or MessagePack ------------------------------------------

/// JSON without spaces, as nlohmann's dump() and Nushell's serde_json write it.
struct JsonOut {
  std::string& out;
  std::vector<bool> first;  ///< per open container: nothing written in it yet
  void sep() {
    if (!first.empty()) {
      if (!first.back()) out.push_back(',');
      first.back() = false;
    }
  }
  void map(std::size_t) { sep(), out.push_back('{'), first.push_back(true); }
  void array(std::size_t) { sep(), out.push_back('['), first.push_back(true); }
  void end_map() { first.pop_back(), out.push_back('}'); }
  void end_array() { first.pop_back(), out.push_back(']'); }
  void key(std::string_view k) { sep(), str_body(k), out.push_back(':'), first.back() = true; }
  void str(std::string_view s) { sep(), str_body(s); }
  void str_body(std::string_view s) { out.append("\"").append(s).append("\""); }  // our texts need no escapes
  void uint(uint64_t v) { sep(), out.append(std::to_string(v)); }
  void boolean(bool b) { sep(), out.append(b ? "true" : "false"); }
  void nil() { sep(), out.append("null"); }
  void raw(std::string_view encoded) { sep(), out.append(encoded); }
};

/// MessagePack in its smallest forms, as rmp-serde and msgpack-c write it.
struct MsgpackOut {
  std::string& out;
  void tagged(uint8_t marker, uint64_t v, int bytes) {
    out.push_back(static_cast<char>(marker));
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  }
  void head(uint8_t fix, std::size_t fix_max, uint8_t m16, uint8_t m32, std::size_t n) {
    if (n < fix_max)
      out.push_back(static_cast<char>(fix | n));
    else if (n < 65536)
      tagged(m16, n, 2);
    else
      tagged(m32, n, 4);
  }
  void map(std::size_t n) { head(0x80, 16, 0xde, 0xdf, n); }
  void array(std::size_t n) { head(0x90, 16, 0xdc, 0xdd, n); }
  void end_map() {}
  void end_array() {}
  void str(std::string_view s) {
    if (s.size() < 32)
      out.push_back(static_cast<char>(0xa0 | s.size()));
    else if (s.size() < 256)
      tagged(0xd9, s.size(), 1);
    else
      tagged(0xda, s.size(), 2);
    out.append(s);
  }
  void key(std::string_view k) { str(k); }
  void uint(uint64_t v) {
    if (v < 128)
      out.push_back(static_cast<char>(v));
    else if (v < 256)
      tagged(0xcc, v, 1);
    else if (v < 65536)
      tagged(0xcd, v, 2);
    else if (v <= 0xffffffffu)
      tagged(0xce, v, 4);
    else
      tagged(0xcf, v, 8);
  }
  void boolean(bool b) { out.push_back(static_cast<char>(b ? 0xc3 : 0xc2)); }
  void nil() { out.push_back(static_cast<char>(0xc0)); }
  void raw(std::string_view encoded) { out.append(encoded); }
};

/// What the Hello said, for the version record: the engine's version, its minor number.
struct Engine {
  std::string version;  ///< decoded text
  int minor = 0;
};

/// A command's signature; its output type is Int, or Record (an empty field list) otherwise.
template <typename W>
void signature(W& w, std::string_view name, std::string_view description, bool outputs_int) {
  w.map(2);
  w.key("sig");
  w.map(14);
  w.key("name"), w.str(name);
  w.key("description"), w.str(description);
  w.key("extra_description"), w.str("");
  w.key("search_terms"), w.array(0), w.end_array();
  w.key("required_positional"), w.array(0), w.end_array();
  w.key("optional_positional"), w.array(0), w.end_array();
  w.key("rest_positional"), w.nil();
  w.key("named"), w.array(1), w.map(7);
  w.key("long"), w.str("help");
  w.key("short"), w.str("h");
  w.key("arg"), w.nil();
  w.key("required"), w.boolean(false);
  w.key("desc"), w.str("Display the help message for this command");
  w.key("var_id"), w.nil();
  w.key("default_value"), w.nil();
  w.end_map(), w.end_array();
  w.key("input_output_types"), w.array(1), w.array(2), w.str("Nothing");
  if (outputs_int)
    w.str("Int");
  else
    w.map(1), w.key("Record"), w.array(0), w.end_array(), w.end_map();
  w.end_array(), w.end_array();
  w.key("allow_variants_without_examples"), w.boolean(true);
  w.key("is_filter"), w.boolean(false);
  w.key("creates_scope"), w.boolean(false);
  w.key("allows_unknown_args"), w.boolean(false);
  w.key("category"), w.str("Default");
  w.end_map();
  w.key("examples"), w.array(0), w.end_array();
  w.end_map();
}

/// `{"<Type>": {"val": …, "span": head}}` with the value written by `val`.
template <typename W, typename F>
void value(W& w, std::string_view type, std::string_view val_key, std::string_view head, F&& val) {
  w.map(1), w.key(type), w.map(2), w.key(val_key);
  val();
  w.key("span"), w.raw(head);
  w.end_map(), w.end_map();
}

/// The record `prov version` answers (plugin/commands/version.cpp), field for field.
template <typename W>
void version_record(W& w, const Engine& e, std::string_view encoding, std::string_view head) {
  auto string = [&](std::string_view s) { value(w, "String", "val", head, [&] { w.str(s); }); };
  value(w, "Record", "val", head, [&] {
    w.map(8);
    w.key("plugin"), string("nu_plugin_provisioning");
    w.key("plugin_version"), string(RESPONDER_PLUGIN_VERSION);
    w.key("engine_version"), string(e.version);
    w.key("protocol"), string("nu-plugin");
    w.key("protocol_version"), string(e.version);
    w.key("encoding"), string(encoding);
    w.key("supported_engines"), string("0.107.0 through 0.115.x");
    w.key("features");
    const bool text_shapes = e.minor >= 114, completions = e.minor >= 109;
    value(w, "List", "vals", head, [&] {
      w.array(std::size_t{text_shapes} + std::size_t{completions});
      if (text_shapes) string("text-ranges-and-cell-paths");
      if (completions) string("completions");
      w.end_array();
    });
    w.end_map();
  });
}

/// One call's answer: `{"CallResponse": [id, body]}`, `id` and `head` as the engine encoded them.
enum class Call { metadata, signature, run_int, run_version };

template <typename W>
void answer(W& w, Call call, std::string_view id, std::string_view head, const Engine& e, std::string_view encoding) {
  w.map(1), w.key("CallResponse"), w.array(2), w.raw(id), w.map(1);
  switch (call) {
    case Call::metadata: w.key("Metadata"), w.map(1), w.key("version"), w.str("0.1.0"), w.end_map(); break;
    case Call::signature:
      w.key("Signature"), w.array(2);
      signature(w, "responder", "Answer 42: the floor for plugin call benchmarks.", true);
      signature(w, "responder version", "Answer the record prov version answers: its same-answer floor.", false);
      w.end_array();
      break;
    case Call::run_int:
    case Call::run_version:
      w.key("PipelineData"), w.map(1), w.key("Value"), w.array(2);
      if (call == Call::run_int)
        value(w, "Int", "val", head, [&] { w.uint(42); });
      else
        version_record(w, e, encoding, head);
      w.nil(), w.end_array(), w.end_map();
      break;
  }
  w.end_map(), w.end_array(), w.end_map();
}

template <typename W>
void hello(W& w, std::string_view version) {
  w.map(1), w.key("Hello"), w.map(3);
  w.key("protocol"), w.str("nu-plugin");
  w.key("version"), w.raw(version);
  w.key("features"), w.array(0), w.end_array();
  w.end_map(), w.end_map();
}

int minor_of(std::string_view version) {  // "0.115.1" -> 115
  std::size_t dot = version.find('.');
  return dot == std::string_view::npos ? 0 : std::atoi(std::string(version.substr(dot + 1)).c_str());
}

// ---- reading JSON --------------------------------------------------------------------------------

/// A position in one complete JSON document. Every function leaves `i` just past what it read.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  void skip_ws() {
    while (!done() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
};

/// Skips a string whose opening quote is at the cursor.
bool skip_string(Cursor& c) {
  if (c.peek() != '"') return false;
  for (++c.i; !c.done(); ++c.i) {
    if (c.s[c.i] == '\\') {
      ++c.i;
    } else if (c.s[c.i] == '"') {
      ++c.i;
      return true;
    }
  }
  return false;
}

/// Skips one value of any kind; containers are skipped by counting brackets outside strings.
bool skip_value(Cursor& c) {
  c.skip_ws();
  char ch = c.peek();
  if (ch == '"') return skip_string(c);
  if (ch == '{' || ch == '[') {
    int depth = 0;
    while (!c.done()) {
      char x = c.peek();
      if (x == '"') {
        if (!skip_string(c)) return false;
        continue;
      }
      if (x == '{' || x == '[') ++depth;
      if (x == '}' || x == ']') --depth;
      ++c.i;
      if (depth == 0) return true;
    }
    return false;
  }
  // number, true, false, null
  std::size_t start = c.i;
  while (!c.done() && c.peek() != ',' && c.peek() != '}' && c.peek() != ']' && c.peek() != ' ' && c.peek() != '\n' &&
         c.peek() != '\r' && c.peek() != '\t')
    ++c.i;
  return c.i > start;
}

/// The raw text of one value (strings keep their quotes), or empty if it is malformed.
std::string_view raw_value(Cursor& c) {
  c.skip_ws();
  std::size_t start = c.i;
  if (!skip_value(c)) return {};
  return c.s.substr(start, c.i - start);
}

/// The raw text of member `key` of the object `obj` (raw text), or empty if absent.
/// Keys of the protocol are plain ASCII, so they are compared without unescaping.
std::string_view json_member(std::string_view obj, std::string_view key) {
  Cursor c{obj};
  c.skip_ws();
  if (c.peek() != '{') return {};
  ++c.i;
  while (true) {
    c.skip_ws();
    if (c.peek() != '"') return {};
    std::size_t k = c.i;
    if (!skip_string(c)) return {};
    std::string_view name = obj.substr(k + 1, c.i - k - 2);
    c.skip_ws();
    if (c.peek() != ':') return {};
    ++c.i;
    std::string_view value = raw_value(c);
    if (value.empty()) return {};
    if (name == key) return value;
    c.skip_ws();
    if (c.peek() != ',') return {};
    ++c.i;
  }
}

/// The raw text of element `index` of the array `arr` (raw text), or empty if absent.
std::string_view json_element(std::string_view arr, std::size_t index) {
  Cursor c{arr};
  c.skip_ws();
  if (c.peek() != '[') return {};
  ++c.i;
  for (std::size_t n = 0;; ++n) {
    std::string_view value = raw_value(c);
    if (value.empty()) return {};
    if (n == index) return value;
    c.skip_ws();
    if (c.peek() != ',') return {};
    ++c.i;
  }
}

/// The text of a raw JSON string without its quotes (the protocol's names have no escapes).
std::string_view json_text(std::string_view raw) {
  return raw.size() >= 2 && raw.front() == '"' ? raw.substr(1, raw.size() - 2) : std::string_view{};
}

// ---- reading MessagePack -------------------------------------------------------------------------

/// The end of the item at `p` (with all its members), nullptr when `end` comes first, or
/// `bad` on the reserved byte 0xc1.
const char* const bad = reinterpret_cast<const char*>(1);

uint64_t be(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

const char* msgpack_skip(const char* p, const char* end) {
  for (uint64_t pending = 1; pending > 0; --pending) {
    if (p >= end) return nullptr;
    const auto b = static_cast<unsigned char>(*p);
    uint64_t header = 1, payload = 0, members = 0;
    int len = 0;  // bytes of a length field
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b <= 0x8f)
      members = 2u * (b & 0x0f);
    else if (b <= 0x9f)
      members = b & 0x0f;
    else if (b <= 0xbf)
      payload = b & 0x1f;
    else if (b == 0xc1)
      return bad;
    else if (b >= 0xc4 && b <= 0xc6)
      len = 1 << (b - 0xc4);
    else if (b >= 0xc7 && b <= 0xc9)
      len = 1 << (b - 0xc7), header = 2;  // ext: type byte
    else if (b == 0xca || b == 0xcb)
      header += b == 0xca ? 4 : 8;
    else if (b >= 0xcc && b <= 0xd3)
      header += 1u << ((b - 0xcc) % 4);
    else if (b >= 0xd4 && b <= 0xd8)
      header += 1 + (1u << (b - 0xd4));
    else if (b >= 0xd9 && b <= 0xdb)
      len = 1 << (b - 0xd9);
    else
      len = b == 0xdc || b == 0xde ? 2 : 4;
    if (len > 0) {
      if (end - p < 1 + len) return nullptr;
      const uint64_t n = be(p + 1, len);
      header += static_cast<uint64_t>(len);
      if (b >= 0xdc)
        members = b >= 0xde ? 2 * n : n;
      else
        payload = n;
    }
    if (static_cast<uint64_t>(end - p) < header + payload) return nullptr;
    p += header + payload;
    pending += members;
  }
  return p;
}

/// The text of the str at `p`, moving `p` past it; false when it is no str.
bool msgpack_str(const char*& p, const char* end, std::string_view& out) {
  if (p >= end) return false;
  const auto b = static_cast<unsigned char>(*p);
  uint64_t n = 0;
  int len = 0;
  if (b >= 0xa0 && b <= 0xbf)
    n = b & 0x1f;
  else if (b >= 0xd9 && b <= 0xdb)
    len = 1 << (b - 0xd9);
  else
    return false;
  if (end - p < 1 + len) return false;
  if (len > 0) n = be(p + 1, len);
  p += 1 + len;
  if (static_cast<uint64_t>(end - p) < n) return false;
  out = std::string_view(p, n);
  p += n;
  return true;
}

/// The count of the map (or array) header at `p`, moving `p` past it; false when it is none.
bool msgpack_count(const char*& p, const char* end, bool is_map, uint64_t& n) {
  if (p >= end) return false;
  const auto b = static_cast<unsigned char>(*p);
  const unsigned char fix = is_map ? 0x80 : 0x90, m16 = is_map ? 0xde : 0xdc;
  if (b >= fix && b <= fix + 0x0f) {
    n = b & 0x0f;
    ++p;
    return true;
  }
  const int len = b == m16 ? 2 : b == m16 + 1 ? 4 : 0;
  if (len == 0 || end - p < 1 + len) return false;
  n = be(p + 1, len);
  p += 1 + len;
  return true;
}

/// The bytes of member `key` of the map `obj`, or empty if absent.
std::string_view msgpack_member(std::string_view obj, std::string_view key) {
  const char *p = obj.data(), *end = obj.data() + obj.size();
  uint64_t n;
  if (!msgpack_count(p, end, true, n)) return {};
  for (; n > 0; --n) {
    std::string_view name;
    if (!msgpack_str(p, end, name)) return {};
    const char* v = msgpack_skip(p, end);
    if (v == nullptr || v == bad) return {};
    if (name == key) return std::string_view(p, static_cast<std::size_t>(v - p));
    p = v;
  }
  return {};
}

/// The bytes of element `index` of the array `arr`, or empty if absent.
std::string_view msgpack_element(std::string_view arr, std::size_t index) {
  const char *p = arr.data(), *end = arr.data() + arr.size();
  uint64_t n;
  if (!msgpack_count(p, end, false, n) || index >= n) return {};
  for (std::size_t i = 0;; ++i) {
    const char* v = msgpack_skip(p, end);
    if (v == nullptr || v == bad) return {};
    if (i == index) return std::string_view(p, static_cast<std::size_t>(v - p));
    p = v;
  }
}

std::string_view msgpack_text(std::string_view raw) {
  const char* p = raw.data();
  std::string_view s;
  return msgpack_str(p, raw.data() + raw.size(), s) ? s : std::string_view{};
}

// ---- serving -------------------------------------------------------------------------------------

/// One encoding's way of reading: members, elements and string texts of raw encoded items.
struct Json {
  static constexpr std::string_view name = "json";
  using Out = JsonOut;
  static std::string_view member(std::string_view o, std::string_view k) { return json_member(o, k); }
  static std::string_view element(std::string_view a, std::size_t i) { return json_element(a, i); }
  static std::string_view text(std::string_view raw) { return json_text(raw); }
  static void finish(std::string& out) { out.push_back('\n'); }
};

struct Msgpack {
  static constexpr std::string_view name = "msgpack";
  using Out = MsgpackOut;
  static std::string_view member(std::string_view o, std::string_view k) { return msgpack_member(o, k); }
  static std::string_view element(std::string_view a, std::size_t i) { return msgpack_element(a, i); }
  static std::string_view text(std::string_view raw) { return msgpack_text(raw); }
  static void finish(std::string&) {}
};

template <typename E>
typename E::Out writer(std::string& out) {
  if constexpr (std::is_same_v<E, Json>)
    return JsonOut{out, {}};
  else
    return MsgpackOut{out};
}

/// Handles one complete message; false when the plugin should exit.
template <typename E>
bool handle(std::string_view doc, Engine& engine, std::string& out) {
  if (E::text(doc) == "Goodbye") return false;
  out.clear();
  auto w = writer<E>(out);
  if (std::string_view body = E::member(doc, "Hello"); !body.empty()) {
    std::string_view version = E::member(body, "version");
    engine.version = std::string(E::text(version));
    if (engine.version.empty()) return false;
    engine.minor = minor_of(engine.version);
    hello(w, version);
  } else if (std::string_view call = E::member(doc, "Call"); !call.empty()) {
    std::string_view id = E::element(call, 0), body = E::element(call, 1);
    std::string_view head;
    Call kind;
    if (E::text(body) == "Metadata") {
      kind = Call::metadata;
    } else if (E::text(body) == "Signature") {
      kind = Call::signature;
    } else if (std::string_view run = E::member(body, "Run"); !run.empty()) {
      head = E::member(E::member(run, "call"), "head");
      std::string_view name = E::text(E::member(run, "name"));
      if (head.empty() || (name != "responder" && name != "responder version"))
        return true;  // not a call we can answer; the engine reports the silence
      kind = name == "responder" ? Call::run_int : Call::run_version;
    } else {
      return true;  // CustomValueOp and the like: this plugin makes no custom values
    }
    answer(w, kind, id, head, engine, E::name);
  } else {
    return true;  // Signal, Ack, Data, End, Drop, EngineCallResponse: nothing to answer
  }
  E::finish(out);
  return write_all(out);
}

/// Splits the engine's byte stream into whole JSON documents, whatever the line breaks, and
/// hands each to `handle`. Keeps bracket depth and string state across reads.
int serve_json() {
  std::string buf, out;
  Engine engine;
  std::size_t scanned = 0, start = 0;
  int depth = 0;
  bool in_string = false, escaped = false, in_doc = false;
  char chunk[65536];
  while (true) {
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // end of input: the engine has gone
    buf.append(chunk, static_cast<std::size_t>(n));
    for (; scanned < buf.size(); ++scanned) {
      char ch = buf[scanned];
      if (!in_doc) {
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        in_doc = true;
        start = scanned;
      }
      bool closes = false;
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (ch == '\\') {
          escaped = true;
        } else if (ch == '"') {
          in_string = false;
          closes = depth == 0;  // a top-level string such as "Goodbye"
        }
      } else if (ch == '"') {
        in_string = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        closes = --depth == 0;
      }
      if (closes) {
        in_doc = false;
        if (!handle<Json>(std::string_view(buf).substr(start, scanned + 1 - start), engine, out)) return 0;
      }
    }
    if (!in_doc) {
      buf.clear();
      scanned = 0;
    } else if (start > 0) {
      buf.erase(0, start);
      scanned -= start;
      start = 0;
    }
  }
}

/// MessagePack messages come back to back: each whole item at the front of the buffer is one.
int serve_msgpack() {
  std::string buf, out;
  Engine engine;
  char chunk[65536];
  while (true) {
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    buf.append(chunk, static_cast<std::size_t>(n));
    const char *p = buf.data(), *end = buf.data() + buf.size();
    while (const char* next = msgpack_skip(p, end)) {
      if (next == bad) return 1;
      if (!handle<Msgpack>(std::string_view(p, static_cast<std::size_t>(next - p)), engine, out)) return 0;
      p = next;
    }
    buf.erase(0, static_cast<std::size_t>(p - buf.data()));
  }
}

}  // namespace

int main() {
  const char* enc = std::getenv("PROVISIONING_PLUGIN_ENCODING");
  const bool msgpack = enc && std::strcmp(enc, "msgpack") == 0;
  if (!write_all(msgpack ? "\x07msgpack" : "\x04json")) return 1;
  return msgpack ? serve_msgpack() : serve_json();
}
