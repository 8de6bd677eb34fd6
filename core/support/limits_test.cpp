#include "core/support/limits.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace prov;

namespace {
Limits from(const std::map<std::string, std::string>& env) {
  return Limits::from_environment([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

Datum nested(int levels) {
  Datum d = 1;
  for (int i = 0; i < levels; ++i) d = (i % 2) ? Datum(DatumList{d}) : Datum(DatumRecord{{"k", d}});
  return d;
}
}  // namespace

TEST_CASE("limits come from defaults, then the environment, then the configuration", "[limits]") {
  CHECK(from({}) == Limits{});
  CHECK(Limits{}.operations == 1000000);
  CHECK(Limits{}.depth == 64);
  CHECK(Limits{}.stream_length == 1000000);
  CHECK(Limits{}.message_size == 256 << 20);
  Limits env = from({{"PROVISIONING_LIMITS_OPERATIONS", "5"},
                     {"PROVISIONING_LIMITS_MESSAGE_SIZE", "1024"},
                     {"PROVISIONING_LIMITS_DEPTH", ""}});
  CHECK(env.operations == 5);
  CHECK(env.message_size == 1024);
  CHECK(env.depth == 64);
  Limits cfg = env.with_config(Datum(DatumRecord{{"limits", Datum(DatumRecord{{"depth", 7}, {"stream_length", 9}})}}));
  CHECK(cfg.operations == 5);
  CHECK(cfg.depth == 7);
  CHECK(cfg.stream_length == 9);
  CHECK(env.with_config(Datum(DatumRecord{})) == env);
}

TEST_CASE("a limit that is not a whole number above 0 is refused, naming where it was set", "[limits]") {
  CHECK_THROWS_WITH(from({{"PROVISIONING_LIMITS_DEPTH", "0"}}), Catch::Contains("PROVISIONING_LIMITS_DEPTH"));
  CHECK_THROWS_WITH(from({{"PROVISIONING_LIMITS_OPERATIONS", "12x"}}), Catch::Contains("'12x'"));
  try {
    Limits{}.with_config(Datum(DatumRecord{{"limits", Datum(DatumRecord{{"operations", "many"}})}}));
    FAIL("no error");
  } catch (const LimitError& e) {
    CHECK(e.code() == "provisioning::limits::bad_value");
    CHECK_THAT(e.what(), Catch::Contains("limits.operations") && Catch::Contains("many"));
  }
  CHECK_THROWS_AS(Limits{}.with_config(Datum(DatumRecord{{"limits", 3}})), LimitError);
  CHECK_THROWS_AS(Limits{}.with_config(Datum(DatumRecord{{"limits", Datum(DatumRecord{{"depth", -1}})}})), LimitError);
}

TEST_CASE("depth over the limit names the limit, the key path and how to raise it", "[limits]") {
  Limits l;
  l.depth = 3;
  CHECK_NOTHROW(check_depth(nested(3), l, "x"));
  CHECK_NOTHROW(check_depth(Datum("scalar"), l, "x"));
  try {
    check_depth(Datum(DatumRecord{{"a", 1}, {"b", nested(3)}}), l, "workflow w", Blame::input());
    FAIL("no error");
  } catch (const LimitError& e) {
    CHECK(e.code() == "provisioning::limits::depth");
    CHECK_THAT(e.what(), Catch::Contains("workflow w") && Catch::Contains("limit of 3") && Catch::Contains("at b.k.0"));
    CHECK_THAT(e.help(), Catch::Contains("limits.depth") && Catch::Contains("PROVISIONING_LIMITS_DEPTH"));
    CHECK(e.blame().kind == Blame::Kind::input);
  }
}

TEST_CASE("operations, stream length and message size over their limits", "[limits]") {
  Limits l;
  l.operations = 2;
  l.stream_length = 10;
  l.message_size = 100;
  CHECK_NOTHROW(check_operations(2, l, "w"));
  CHECK_THROWS_WITH(check_operations(3, l, "workflow w"),
                    Catch::Contains("has 3 operations, over the limit of 2") && Catch::Contains("limits.operations"));
  CHECK_NOTHROW(check_stream_length(10, l));
  CHECK_THROWS_WITH(check_stream_length(11, l), Catch::Contains("more than 10 items"));
  CHECK_NOTHROW(check_message_size(100, l, "m"));
  try {
    check_message_size(101, l, "the input");
    FAIL("no error");
  } catch (const LimitError& e) {
    CHECK(e.code() == "provisioning::limits::message_size");
    CHECK_THAT(e.help(), Catch::Contains("PROVISIONING_LIMITS_MESSAGE_SIZE"));
  }
}
