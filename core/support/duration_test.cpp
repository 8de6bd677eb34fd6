#include "core/support/duration.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace prov;

namespace {

int64_t nanos_of(std::string_view text) {
  std::string why;
  const std::optional<Duration> d = parse_duration(text, why);
  INFO(text << ": " << why);
  REQUIRE(d.has_value());
  CHECK(why.empty());
  return d->nanos;
}

std::string why_not(std::string_view text) {
  std::string why;
  const std::optional<Duration> d = parse_duration(text, why);
  INFO(text);
  REQUIRE_FALSE(d.has_value());
  return why;
}

}  // namespace

TEST_CASE("parse_duration reads every unit", "[duration]") {
  CHECK(nanos_of("100ns") == 100);
  CHECK(nanos_of("250us") == 250'000);
  CHECK(nanos_of("250µs") == 250'000);
  CHECK(nanos_of("250μs") == 250'000);  // Greek small mu
  CHECK(nanos_of("500ms") == 500'000'000);
  CHECK(nanos_of("1s") == 1'000'000'000);
  CHECK(nanos_of("2sec") == 2'000'000'000);
  CHECK(nanos_of("5m") == 300'000'000'000);
  CHECK(nanos_of("5min") == 300'000'000'000);
  CHECK(nanos_of("2h") == 7'200'000'000'000);
  CHECK(nanos_of("2hr") == 7'200'000'000'000);
  CHECK(nanos_of("1d") == 86'400'000'000'000);
  CHECK(nanos_of("1day") == 86'400'000'000'000);
  CHECK(nanos_of("1w") == 604'800'000'000'000);
  CHECK(nanos_of("1wk") == 604'800'000'000'000);
}

TEST_CASE("parse_duration reads fractions and compounds exactly", "[duration]") {
  CHECK(nanos_of("1.5s") == 1'500'000'000);
  CHECK(nanos_of("0.001s") == 1'000'000);
  CHECK(nanos_of(".25s") == 250'000'000);
  CHECK(nanos_of("1.000000001s") == 1'000'000'001);
  CHECK(nanos_of("1.0000000019s") == 1'000'000'001);  // finer than a nanosecond is dropped
  CHECK(nanos_of("0.1h") == 360'000'000'000);
  CHECK(nanos_of("1m30s") == 90'000'000'000);
  CHECK(nanos_of("1h2m3s4ms") == 3'723'004'000'000);
  CHECK(nanos_of("1m 30s") == 90'000'000'000);
  CHECK(nanos_of(" 5 ms ") == 5'000'000);
  CHECK(nanos_of("0s") == 0);
  CHECK(nanos_of("106751d") == 106751 * 86'400'000'000'000);
}

TEST_CASE("parse_duration says what is wrong", "[duration]") {
  CHECK(why_not("") == "an empty text is not a duration");
  CHECK(why_not("5") == "'5' has no unit");
  CHECK(why_not("5 minutes") == "'5 minutes' has an unknown unit 'minutes'");
  CHECK(why_not("-5s") == "'-5s' has a sign; a duration is written without one");
  CHECK(why_not("s") == "'s' is not a duration: expected a number at 's'");
  CHECK(why_not("1s1m") == "'1s1m' repeats or reorders units; write each unit once, largest first");
  CHECK(why_not("1m1min").find("repeats or reorders") != std::string::npos);
  CHECK(why_not("1s,") == "'1s,' is not a duration: expected a number at ','");
  CHECK(why_not("1.5:s") == "'1.5:s' is not a duration: unexpected ':'");
  CHECK(why_not("106752d") == "'106752d' is too long a time (at most about 292 years)");
  CHECK(why_not("99999999999999999999s") == "'99999999999999999999s' is too long a time");
}

TEST_CASE("kDurationForms names the accepted forms", "[duration]") {
  const std::string forms = kDurationForms;
  CHECK(forms.find("\"1.5s\"") != std::string::npos);
  CHECK(forms.find("\"1m30s\"") != std::string::npos);
  CHECK(forms.find("ns, us (µs), ms, s, m, h, d") != std::string::npos);
}

TEST_CASE("to_duration takes durations and strings, refuses bare numbers", "[duration]") {
  std::string why;
  CHECK(to_duration(Datum(Duration{42}), why) == Duration{42});
  CHECK(to_duration(Datum("1.5s"), why) == Duration{1'500'000'000});
  CHECK(why.empty());

  CHECK_FALSE(to_duration(Datum(5), why));
  CHECK(why == "5 is a bare int, and its unit would be a guess: write \"5s\", \"5ms\" or \"5m\"");
  CHECK_FALSE(to_duration(Datum(1.5), why));
  CHECK(why.find("1.5 is a bare float") == 0);
  CHECK_FALSE(to_duration(Datum(DatumRecord{}), why));
  CHECK(why == "expected a duration or a string like \"1.5s\", got record");
  CHECK_FALSE(to_duration(Datum("soon"), why));
  CHECK(why == "'soon' is not a duration: expected a number at 'soon'");
}

TEST_CASE("format_duration writes short text that reads back", "[duration]") {
  CHECK(format_duration(Duration{0}) == "0s");
  CHECK(format_duration(Duration{100}) == "100ns");
  CHECK(format_duration(Duration{250'000}) == "250us");
  CHECK(format_duration(Duration{1'500}) == "1.5us");
  CHECK(format_duration(Duration{500'000'000}) == "500ms");
  CHECK(format_duration(Duration{1'500'000'000}) == "1.5s");
  CHECK(format_duration(Duration{1'000'000'001}) == "1.000000001s");
  CHECK(format_duration(Duration{60'000'000'000}) == "1m");
  CHECK(format_duration(Duration{90'000'000'000}) == "1m30s");
  CHECK(format_duration(Duration{90'500'000'000}) == "1m30.5s");
  CHECK(format_duration(Duration{3'600'000'000'000}) == "1h");
  CHECK(format_duration(Duration{3'601'000'000'000}) == "1h1s");
  CHECK(format_duration(Duration{86'400'000'000'000 + 3'600'000'000'000}) == "1d1h");
  CHECK(format_duration(Duration{-1'500'000'000}) == "-1.5s");
  CHECK(format_duration(Duration{std::numeric_limits<int64_t>::min()}) ==
        "-106751d23h47m16.854775808s");

  for (int64_t n :
       {int64_t{1}, int64_t{999}, int64_t{1'001}, int64_t{123'456'789}, int64_t{59'999'999'999},
        int64_t{61'000'000'001}, int64_t{7'322'000'000'000}, std::numeric_limits<int64_t>::max()}) {
    std::string why;
    INFO(n << " -> " << format_duration(Duration{n}));
    CHECK(parse_duration(format_duration(Duration{n}), why) == Duration{n});
  }
}

TEST_CASE("to_millis rounds a measurement to the nearest millisecond", "[duration]") {
  CHECK(to_millis(Duration{1'234'567'890}).nanos == 1'235'000'000);
  CHECK(to_millis(Duration{1'234'499'999}).nanos == 1'234'000'000);
  CHECK(to_millis(Duration{499'999}).nanos == 0);
  CHECK(to_millis(Duration{0}).nanos == 0);
  CHECK(to_millis(Duration{-1'600'000}).nanos == -2'000'000);
}
