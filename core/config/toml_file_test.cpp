#include "core/config/toml_file.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

std::vector<std::string> keys_of(const Datum& d) {
  std::vector<std::string> out;
  for (const auto& [k, v] : d.record()) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("parse_toml converts every TOML type", "[config][toml]") {
  Datum d = parse_toml(R"(
i = 42
neg = -7
f = 1.5
b = true
s = "text"
list = [1, "two", 3.0]
odt = 1979-05-27T07:32:00-08:00
odt_z = 1979-05-27T07:32:00Z
odt_frac = 1979-05-27T00:32:00.999999+05:30
ldt = 1979-05-27T07:32:00
ld = 1979-05-27
lt = 07:32:00
lt_frac = 07:32:00.5
inline = { x = 1, y = "z" }
[[servers]]
name = "web"
[[servers]]
name = "db"
)",
                       "types.toml");
  CHECK(*d.find("i") == Datum(int64_t{42}));
  CHECK(*d.find("neg") == Datum(int64_t{-7}));
  CHECK(*d.find("f") == Datum(1.5));
  CHECK(*d.find("b") == Datum(true));
  CHECK(*d.find("s") == Datum("text"));
  CHECK(*d.find("list") == Datum(DatumList{Datum(int64_t{1}), Datum("two"), Datum(3.0)}));
  CHECK(*d.find("odt") == Datum(DateTime{"1979-05-27T07:32:00-08:00"}));
  CHECK(*d.find("odt_z") == Datum(DateTime{"1979-05-27T07:32:00+00:00"}));
  CHECK(*d.find("odt_frac") == Datum(DateTime{"1979-05-27T00:32:00.999999+05:30"}));
  CHECK(*d.find("ldt") == Datum(DateTime{"1979-05-27T07:32:00+00:00"}));
  CHECK(*d.find("ld") == Datum(DateTime{"1979-05-27T00:00:00+00:00"}));
  CHECK(*d.find("lt") == Datum("07:32:00"));
  CHECK(*d.find("lt_frac") == Datum("07:32:00.5"));
  CHECK(*d.find("inline") == Datum(DatumRecord{{"x", int64_t{1}}, {"y", "z"}}));
  CHECK(*d.find("servers") ==
        Datum(DatumList{DatumRecord{{"name", "web"}}, DatumRecord{{"name", "db"}}}));
}

TEST_CASE("parse_toml keeps the author's key order, not toml++'s sorted order", "[config][toml]") {
  Datum d = parse_toml(R"(zeta = 1
alpha.second = 2
alpha.first = 3
[middle.inner]
q = 1
[beta]
y = { zz = 1, aa = 2 }
[middle]
w = 1
)",
                       "order.toml");
  CHECK(keys_of(d) == std::vector<std::string>{"zeta", "alpha", "middle", "beta"});
  CHECK(keys_of(*d.find("alpha")) == std::vector<std::string>{"second", "first"});
  CHECK(keys_of(*d.find("middle")) == std::vector<std::string>{"inner", "w"});
  CHECK(keys_of(*d.find("beta")->find("y")) == std::vector<std::string>{"zz", "aa"});
}

TEST_CASE("parse_toml reports malformed TOML with file, line and column", "[config][toml]") {
  try {
    parse_toml("a = 1\n\nb = = 2\n", "/ws/config.defaults.toml");
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::parse");
    const std::string msg = e.what();
    CHECK(msg.find("/ws/config.defaults.toml") != std::string::npos);
    CHECK(msg.find("line 3, column 5") != std::string::npos);
    CHECK(msg.find("could not determine value type") != std::string::npos);
    REQUIRE(e.position());
    CHECK(e.position()->path == "/ws/config.defaults.toml");
    CHECK(e.position()->line == 3);
    CHECK(e.position()->column == 5);
    CHECK(e.blame().kind == Blame::Kind::none);
  }
  // A key given twice is a TOML error too.
  try {
    parse_toml("x = 1\nx = 2\n", "dup.toml");
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::parse");
    REQUIRE(e.position());
    CHECK(e.position()->line == 2);
  }
}

TEST_CASE("parse_toml refuses documents nested deeper than kMaxTomlDepth", "[config][toml]") {
  auto repeat = [](const std::string& s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
  };
  // toml++ alone overflows the stack on these (a key of 100,000 parts).
  const std::vector<std::string> deep = {
      repeat("a.", 100000) + "a = 1\n",
      "[" + repeat("a.", 100000) + "a]\nx = 1\n",
      "x = 1\n[[t]]\n" + repeat("b.", 300) + "c = 2\n",
      "[t]\nv = " + repeat("{ k.k = ", 150) + "1" + repeat("}", 150) + "\n",
      "[" + repeat("t.", 200) + "t]\nv = " + repeat("[", 100) + repeat("]", 100) + "\n",
  };
  for (const std::string& text : deep) {
    try {
      parse_toml(text, "deep.toml");
      FAIL("expected ConfigError for " << text.substr(0, 40));
    } catch (const ConfigError& e) {
      CHECK(e.code() == "provisioning::config::parse");
      CHECK(std::string(e.what()).find("nest deeper than 256 levels") != std::string::npos);
      REQUIRE(e.position());
      CHECK(e.position()->path == "deep.toml");
    }
  }
  // The position is the first key part or bracket past the limit.
  try {
    parse_toml("x = 1\n" + repeat("a.", 300) + "a = 1\n", "deep.toml");
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.position());
    CHECK(e.position()->line == 2);
    CHECK(e.position()->column == 512);
  }
  // Up to the limit, and dots that are not key parts (values, strings, comments), are fine.
  const std::string fine = repeat("a.", 255) + "a = 1\n" +
                           "f = [" + repeat("1.5, ", 1000) + "\"" + repeat("x.", 1000) + "\"]\n" +
                           "\"" + repeat("q.", 1000) + "\" = '" + repeat("y.", 300) + "' # " + repeat("z.", 300) + "\n" +
                           "m = \"\"\"\n" + repeat("a.b = 1\n", 300) + "\"\"\"\n" +
                           "[" + repeat("t.", 100) + "t]\n" + repeat("u.", 100) + "u = " + repeat("[", 50) +
                           repeat("]", 50) + "\n";
  const Datum d = parse_toml(fine, "fine.toml");
  CHECK(d.find("f")->list().size() == 1001);
  CHECK(d.find("m")->str().size() == 8 * 300);
}

TEST_CASE("parse_toml: non-ASCII characters where TOML expects whitespace are syntax errors",
          "[config][toml]") {
  // toml++ 3.3 reaches TOML_UNREACHABLE for some of these (found by the workflow_parse fuzz
  // target; ASan+UBSan builds report it): they are refused before toml++ sees them.
  for (const char* text : {"\xc3\xa9 = 1\n", "a = 1 \xc3\xa9\n", "a = \xe3\x80\x81\n", "a\xc2\xa1= 1\n",
                           "a = \"x\"\xd2\x99\n", "[t\xe3\x81\x82]\n"}) {
    try {
      parse_toml(text, "chars.toml");
      FAIL("expected ConfigError for " << text);
    } catch (const ConfigError& e) {
      CHECK(e.code() == "provisioning::config::parse");
      CHECK_THAT(e.what(), Catch::Contains("not ASCII"));
    }
  }
  // Where TOML allows them, they are data; comments may hold them too.
  CHECK(parse_toml("# caf\xc3\xa9 \xe3\x80\x81\na = '\xc3\xa9' # \xc2\xa1\nb = \"\"\"\n\xe3\x80\x81\"\"\"\n", "c.toml")
            .find("a")
            ->str() == "\xc3\xa9");
  const Datum d = parse_toml("\"\xc3\xa9\" = \"\xe3\x80\x81\xc2\xa1\"\n", "chars.toml");
  CHECK(d.find("\xc3\xa9")->str() == "\xe3\x80\x81\xc2\xa1");
}

TEST_CASE("read_toml_file tells missing, unreadable and valid files apart", "[config][toml]") {
  TempDir dir("prov-toml");
  CHECK_FALSE(read_toml_file(dir / "absent.toml"));
  CHECK_FALSE(read_toml_file(dir / "absent/deeper.toml"));

  std::optional<Datum> d = read_toml_file(dir.write("ok.toml", "[a]\nb = \"c\"\n"));
  REQUIRE(d);
  CHECK(*d == Datum(DatumRecord{{"a", DatumRecord{{"b", "c"}}}}));

  const std::string folder = dir.mkdir("folder.toml");
  try {
    read_toml_file(folder);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::read");
    CHECK(std::string(e.what()) == "cannot read " + folder + ": not a regular file");
  }

  const std::string bad = dir.write("bad.toml", "[a\n");
  try {
    read_toml_file(bad);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::parse");
    REQUIRE(e.position());
    CHECK(e.position()->path == bad);
    CHECK(e.position()->line == 1);
  }
}
