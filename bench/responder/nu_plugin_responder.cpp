// nu_plugin_responder: the smallest correct Nushell plugin, used as the floor of the per-call
// benchmarks. One command, `responder`, answers the Int 42. JSON encoding only, no library:
// the scanner below reads just enough of each message to answer it.
//
// Protocol, in order: write "\x04json" and flush (the engine waits for it); read the engine's
// Hello and answer with the same version; answer Metadata, Signature and Run calls; exit on
// "Goodbye" or end of input. Everything else the engine sends is read and ignored.

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

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
  while (!c.done() && c.peek() != ',' && c.peek() != '}' && c.peek() != ']' && c.peek() != ' ' &&
         c.peek() != '\n' && c.peek() != '\r' && c.peek() != '\t')
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
std::string_view member(std::string_view obj, std::string_view key) {
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
std::string_view element(std::string_view arr, std::size_t index) {
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

constexpr std::string_view kSignature =
    R"([{"sig":{"name":"responder","description":"Answer 42: the floor for plugin call benchmarks.",)"
    R"("extra_description":"","search_terms":[],"required_positional":[],"optional_positional":[],)"
    R"("rest_positional":null,"named":[{"long":"help","short":"h","arg":null,"required":false,)"
    R"("desc":"Display the help message for this command","var_id":null,"default_value":null}],)"
    R"("input_output_types":[["Nothing","Int"]],"allow_variants_without_examples":true,)"
    R"("is_filter":false,"creates_scope":false,"allows_unknown_args":false,"category":"Default"},)"
    R"("examples":[]}])";

/// Answers one call; `id` is the raw call id, `call` the raw PluginCall.
bool answer_call(std::string_view id, std::string_view call, std::string& out) {
  out.assign(R"({"CallResponse":[)").append(id).append(",");
  if (call == R"("Metadata")") {
    out.append(R"({"Metadata":{"version":"0.1.0"}})");
  } else if (call == R"("Signature")") {
    out.append(R"({"Signature":)").append(kSignature).append("}");
  } else if (std::string_view run = member(call, "Run"); !run.empty()) {
    std::string_view head = member(member(run, "call"), "head");
    if (head.empty()) return true;  // not a call we can answer; the engine reports the silence
    out.append(R"({"PipelineData":{"Value":[{"Int":{"val":42,"span":)").append(head).append("}},null]}}");
  } else {
    return true;  // CustomValueOp and the like: this plugin makes no custom values
  }
  out.append("]}\n");
  return write_all(out);
}

/// Handles one complete message; false when the plugin should exit.
bool handle(std::string_view doc, std::string& out) {
  if (doc == R"("Goodbye")") return false;
  if (std::string_view hello = member(doc, "Hello"); !hello.empty()) {
    std::string_view version = member(hello, "version");
    if (version.empty() || version.front() != '"') return false;
    out.assign(R"({"Hello":{"protocol":"nu-plugin","version":)").append(version).append(R"(,"features":[]}})");
    out.append("\n");
    return write_all(out);
  }
  if (std::string_view call = member(doc, "Call"); !call.empty()) {
    return answer_call(element(call, 0), element(call, 1), out);
  }
  return true;  // Signal, Ack, Data, End, Drop, EngineCallResponse: nothing to answer
}

/// Splits the engine's byte stream into whole JSON documents, whatever the line breaks, and
/// hands each to `handle`. Keeps bracket depth and string state across reads.
int serve() {
  std::string buf, out;
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
        if (!handle(std::string_view(buf).substr(start, scanned + 1 - start), out)) return 0;
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

}  // namespace

int main() {
  if (!write_all("\x04json")) return 1;
  return serve();
}
