#include "core/ops/toml_edit.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"

using namespace prov;

namespace {

std::string set(std::string_view text, const std::string& key, const std::string& value) {
  return toml_set(text, *parse_key(key), value, "config.user.toml").text;
}

std::string code_of(std::string_view text, const std::string& key, const std::string& value) {
  try {
    set(text, key, value);
  } catch (const ConfigError& e) {
    return e.code();
  }
  return "";
}

}  // namespace

TEST_CASE("toml_set replaces a value's text and nothing else", "[ops][toml_edit]") {
  const std::string doc =
      "# top\na = 1   # one\n\n[t]\n  b = 'x'  # why\n  c = \"\"\"\nmulti\nline\"\"\"\n\n[u]\nd = [\n  1, # a\n  "
      "2,\n]\n";
  TomlEdit e = toml_set(doc, {"t", "b"}, "\"y\"", "f");
  CHECK(e.previous == "'x'");
  CHECK(e.text ==
        "# top\na = 1   # one\n\n[t]\n  b = \"y\"  # why\n  c = \"\"\"\nmulti\nline\"\"\"\n\n[u]\nd = [\n  1, # a\n  "
        "2,\n]\n");
  e = toml_set(doc, {"t", "c"}, "2", "f");
  CHECK(e.previous == "\"\"\"\nmulti\nline\"\"\"");
  CHECK(e.text == "# top\na = 1   # one\n\n[t]\n  b = 'x'  # why\n  c = 2\n\n[u]\nd = [\n  1, # a\n  2,\n]\n");
  e = toml_set(doc, {"u", "d"}, "[]", "f");
  CHECK(e.previous == "[\n  1, # a\n  2,\n]");
  CHECK(set(doc, "a", "{ x = 1 }") ==
        "# top\na = { x = 1 }   # one\n\n[t]\n  b = 'x'  # why\n  c = \"\"\"\nmulti\nline\"\"\"\n\n[u]\nd = [\n  1, # "
        "a\n  2,\n]\n");
  // Quoted and dotted keys are found as TOML reads them.
  CHECK(set("\"a.b\" . c = 1\n", "\"a.b\".c", "2") == "\"a.b\" . c = 2\n");
  CHECK(set("[ 'x y' ]\nk = 1\n", "\"x y\".k", "2") == "[ 'x y' ]\nk = 2\n");
  CHECK(set("d = 1979-05-27 07:32:00Z # t\n", "d", "1") == "d = 1 # t\n");
}

TEST_CASE("toml_set adds a missing key beside what holds its table", "[ops][toml_edit]") {
  // After the last line of its section, indented like it.
  CHECK(set("[t]\n  a = 1\n\n[u]\nb = 2\n", "t.n", "3") == "[t]\n  a = 1\n  n = 3\n\n[u]\nb = 2\n");
  // A root key goes before the first section.
  CHECK(set("# c\nx = 1\n\n[t]\na = 1\n", "y", "2") == "# c\nx = 1\ny = 2\n\n[t]\na = 1\n");
  CHECK(set("[t]\na = 1\n", "y", "2") == "y = 2\n[t]\na = 1\n");
  // Beside dotted keys that hold its table; relative to the section.
  CHECK(set("p.l.t = 30\n\n[x]\ny = 1\n", "p.l.g", "2") == "p.l.t = 30\np.l.g = 2\n\n[x]\ny = 1\n");
  CHECK(set("[p]\nd = 1\nl.t = 30\n", "p.l.g", "2") == "[p]\nd = 1\nl.t = 30\nl.g = 2\n");
  // A section of its own when nothing holds the table; an empty or unterminated document.
  CHECK(set("x = 1", "a.b", "2") == "x = 1\n\n[a]\nb = 2\n");
  CHECK(set("", "a.b", "2") == "[a]\nb = 2\n");
  CHECK(set("", "a", "2") == "a = 2\n");
  CHECK(set("[t]", "t.a", "1") == "[t]\na = 1\n");
  CHECK(set("[t]\n", "t.\"x.y\"", "1") == "[t]\n\"x.y\" = 1\n");
}

TEST_CASE("toml_set refuses what it cannot edit in place", "[ops][toml_edit]") {
  CHECK(code_of("a = { b = 1 }\n", "a.b", "2") == "provisioning::config::cannot_edit");
  CHECK(code_of("a = [1]\n", "a.0", "2") == "provisioning::config::cannot_edit");
  CHECK(code_of("[[s]]\nn = 1\n", "s.n", "2") == "provisioning::config::cannot_edit");
  CHECK(code_of("[a.b]\nc = 1\n", "a", "2") == "provisioning::config::cannot_edit");
  CHECK(code_of("a.b = 1\n", "a", "2") == "provisioning::config::cannot_edit");
  CHECK(code_of("a = 1\n", "a.b", "2") == "provisioning::config::key_conflict");
  CHECK(code_of("a = [unclosed\n", "b", "2") == "provisioning::config::parse");
}

TEST_CASE("toml_remove takes back exactly what toml_set added", "[ops][toml_edit]") {
  const std::string doc = "# c\nx = 1 # one\n\n[t]\n  a = 1\n";
  for (const char* key : {"y", "t.b", "p.q", "t.s.u"}) {
    INFO(key);
    TomlEdit e = toml_set(doc, *parse_key(key), "\"v\"", "f");
    REQUIRE_FALSE(e.previous);
    const std::string inserted = e.inserted;
    CHECK(toml_remove(
              e.text, *parse_key(key), inserted.size(), [&](std::string_view block) { return block == inserted; },
              "f") == doc);
  }
  // Text that is not what was added: only the key's line goes.
  CHECK(toml_remove(
            "a = 1\nb = 2\n", {"b"}, 12, [](std::string_view) { return false; }, "f") == "a = 1\n");
  CHECK(toml_remove(
            "a = 1\n", {"b"}, 0, [](std::string_view) { return true; }, "f") == "a = 1\n");
}
