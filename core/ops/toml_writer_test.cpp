#include "core/ops/toml_writer.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("render_toml keeps the author's order and every value's type", "[ops][toml_writer]") {
  const char* source = R"(# comments are lost
zeta = 1
alpha = "x"
hex = 0xFF
date = 1979-05-27
when = 1979-05-27T07:32:00.5-08:00
inline = { b = 2, a = 1 }
mixed = [1, "two", { three = 3 }]

[server]
name = "web"
port = 8080

[server.tls]
on = true

[deep.only.tables]
x = 1

[empty]

[[ports]]
n = 1
[ports.meta]
tag = "a"

[[ports]]
n = 2

["odd key"]
"with.dot" = 1
"new\nline" = 2
)";
  const toml::table table = toml::parse(source);
  const std::string text = render_toml(table);
  INFO(text);
  CHECK(text == R"(zeta = 1
alpha = 'x'
hex = 0xFF
date = 1979-05-27
when = 1979-05-27T07:32:00.5-08:00
inline = { a = 1, b = 2 }
mixed = [ 1, 'two', { three = 3 } ]

[server]
name = 'web'
port = 8080

[server.tls]
on = true

[deep.only.tables]
x = 1

[empty]

[[ports]]
n = 1

[ports.meta]
tag = 'a'

[[ports]]
n = 2

["odd key"]
"with.dot" = 1
"new\nline" = 2
)");
  CHECK(toml::parse(text) == table);
}

TEST_CASE("render_toml puts members added later after the ones read", "[ops][toml_writer]") {
  toml::table table = toml::parse("b = 1\na = 2\n[t]\nz = 1\n");
  table.insert_or_assign("added", 3);
  table.insert_or_assign("aardvark", 4);
  table.get_as<toml::table>("t")->insert_or_assign("y", 2);
  CHECK(render_toml(table) == "b = 1\na = 2\naardvark = 4\nadded = 3\n\n[t]\nz = 1\ny = 2\n");
}

TEST_CASE("to_toml converts every Datum TOML can hold", "[ops][toml_writer]") {
  std::string why;
  const Datum value = DatumRecord{
      {"s", "text"}, {"i", int64_t{-3}}, {"f", 2.5}, {"b", false},
      {"d", DateTime{"2024-01-02T03:04:05.25+01:00"}}, {"t", Duration{1'500'000'000}},
      {"l", DatumList{int64_t{1}, "x"}}, {"r", DatumRecord{{"k", "v"}}},
      {"rows", DatumList{DatumRecord{{"n", int64_t{1}}}, DatumRecord{{"n", int64_t{2}}}}}};
  std::unique_ptr<toml::node> node = to_toml(value, why);
  REQUIRE(node);
  toml::table doc;
  doc.insert("v", std::move(*node));
  const toml::table back = toml::parse(render_toml(doc));
  CHECK(back["v"]["s"].value<std::string>() == "text");
  CHECK(back["v"]["i"].value<int64_t>() == -3);
  CHECK(back["v"]["f"].value<double>() == 2.5);
  CHECK(back["v"]["b"].value<bool>() == false);
  REQUIRE(back["v"]["d"].as_date_time());
  CHECK(back["v"]["d"].as_date_time()->get().time.nanosecond == 250'000'000);
  CHECK(back["v"]["d"].as_date_time()->get().offset->minutes == 60);
  CHECK(back["v"]["t"].value<std::string>() == "1.5s");
  CHECK(back["v"]["l"][1].value<std::string>() == "x");
  CHECK(back["v"]["r"]["k"].value<std::string>() == "v");
  CHECK(back["v"]["rows"][1]["n"].value<int64_t>() == 2);

  CHECK_FALSE(to_toml(Datum(), why));
  CHECK(why.find("null") != std::string::npos);
  CHECK_FALSE(to_toml(DatumList{int64_t{1}, Datum()}, why));
  CHECK_FALSE(to_toml(DateTime{"not a date"}, why));
}
