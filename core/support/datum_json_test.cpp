#include "core/support/datum_json.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "core/support/error.hpp"

using namespace prov;

namespace {

Datum round_trip(const Datum& d) { return decode_json(encode_json(d)); }

DatumRecord rec(std::initializer_list<std::pair<std::string, Datum>> kv) { return DatumRecord(kv); }

std::string random_text(std::mt19937_64& rng) {
  // clang-format off
  static const std::vector<std::string> pieces = {
      "a", "Z", " ", "\n", "\"", "\\", "$", "$date", "é", "✓", "😀", std::string(1, '\0'),
      "\x01", "\x7f", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x9c"};
  // clang-format on
  std::string s;
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s;
}

Datum random_datum(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth > 0 ? 9 : 7)) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int64_t>(rng());
    case 3: {
      // clang-format off
      const double specials[] = {0.0, -0.0, 1.0, 0.1, -2.5e-300, 1.7976931348623157e308,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::denorm_min()};
      // clang-format on
      if (rng() % 2) return specials[rng() % std::size(specials)];
      return std::ldexp(static_cast<double>(rng() % 1000000) - 500000.0,
                        static_cast<int>(rng() % 200) - 100);
    }
    case 4:
      return random_text(rng);
    case 5:
      return rng() % 3 ? DateTime{"2026-11-26T20:30:00.123456789+01:00"}
                       : DateTime{random_text(rng)};
    case 6:
      return Duration{static_cast<int64_t>(rng())};
    case 7: {
      DatumList l;
      for (int i = static_cast<int>(rng() % 4); i > 0; --i)
        l.push_back(random_datum(rng, depth - 1));
      return l;
    }
    default: {
      DatumRecord r;
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
        std::string key = rng() % 3 ? "$" + random_text(rng) : random_text(rng);
        bool dup = false;
        for (const auto& [k, v] : r) dup = dup || k == key;
        if (!dup) r.emplace_back(key, random_datum(rng, depth - 1));
      }
      return r;
    }
  }
}

}  // namespace

TEST_CASE("datum_json writes plain JSON for what JSON can say, in key order", "[datum_json]") {
  const Datum d = rec({{"zeta", 1},
                       {"alpha", rec({{"b", true}, {"a", nullptr}})},
                       {"list", DatumList{1.5, "x", DatumList{}}},
                       {"s", "line\nnext"}});
  CHECK(encode_json(d) ==
        R"({"zeta":1,"alpha":{"b":true,"a":null},"list":[1.5,"x",[]],"s":"line\nnext"})");
  CHECK(round_trip(d) == d);
  CHECK(encode_json(Datum(1.0)) == "1.0");
  CHECK(round_trip(Datum(1.0)).v.index() == Datum(1.0).v.index());  // stays a float
  CHECK(round_trip(Datum(1)).v.index() == Datum(1).v.index());      // stays an int
}

TEST_CASE("datum_json tags dates, durations and non-finite floats", "[datum_json]") {
  const DateTime t{"1979-05-27T07:32:00.999999999-08:00"};
  CHECK(encode_json(t) == R"({"$date":"1979-05-27T07:32:00.999999999-08:00"})");
  CHECK(round_trip(t) == Datum(t));
  CHECK(encode_json(Duration{1500000000}) == R"({"$duration":1500000000})");
  CHECK(round_trip(Duration{-7}) == Datum(Duration{-7}));
  CHECK(round_trip(Duration{std::numeric_limits<int64_t>::min()}) ==
        Datum(Duration{std::numeric_limits<int64_t>::min()}));
  CHECK(round_trip(std::numeric_limits<int64_t>::max()) ==
        Datum(std::numeric_limits<int64_t>::max()));
  CHECK(round_trip(std::numeric_limits<int64_t>::min()) ==
        Datum(std::numeric_limits<int64_t>::min()));

  CHECK(encode_json(std::numeric_limits<double>::infinity()) == R"({"$float":"inf"})");
  CHECK(round_trip(-std::numeric_limits<double>::infinity()) ==
        Datum(-std::numeric_limits<double>::infinity()));
  const Datum nan = round_trip(std::numeric_limits<double>::quiet_NaN());
  REQUIRE(std::holds_alternative<double>(nan.v));
  CHECK(std::isnan(std::get<double>(nan.v)));
  const Datum neg_zero = round_trip(-0.0);
  CHECK(std::signbit(std::get<double>(neg_zero.v)));
}

TEST_CASE("datum_json escapes records that would read back as a tag", "[datum_json]") {
  const Datum looks_like_date = rec({{"$date", "not a date"}});
  CHECK(encode_json(looks_like_date) == R"({"$record":[["$date","not a date"]]})");
  CHECK(round_trip(looks_like_date) == looks_like_date);
  CHECK(std::holds_alternative<DatumRecord>(round_trip(looks_like_date).v));

  const Datum looks_like_escape = rec({{"$record", rec({{"$duration", 5}})}});
  CHECK(round_trip(looks_like_escape) == looks_like_escape);
  const Datum unknown_tag = rec({{"$schema", "x"}});
  CHECK(round_trip(unknown_tag) == unknown_tag);
  // Several keys never read as a tag, so they stay plain.
  const Datum two = rec({{"$date", 1}, {"$duration", 2}});
  CHECK(encode_json(two) == R"({"$date":1,"$duration":2})");
  CHECK(round_trip(two) == two);
  // Unknown single `$` keys written by someone else read as plain records.
  CHECK(decode_json(R"({"$schema":"x"})") == unknown_tag);
}

TEST_CASE("datum_json keeps text that is not UTF-8", "[datum_json]") {
  const Datum bytes = std::string("ok\xff\x00!", 5);
  CHECK(encode_json(bytes) == R"({"$bytes":"6f6bff0021"})");
  CHECK(round_trip(bytes) == bytes);
  const Datum key = rec({{"bad\xfekey", 1}, {"good", 2}});
  CHECK(round_trip(key) == key);
  CHECK(round_trip(DateTime{"2026\xff"}) == Datum(DateTime{"2026\xff"}));
}

TEST_CASE("datum_json round-trips random values of every type", "[datum_json]") {
  std::mt19937_64 rng(20261126);
  for (int i = 0; i < 2000; ++i) {
    const Datum d = random_datum(rng, 4);
    const std::string text = encode_json(d);
    INFO(text);
    CHECK(text.find('\n') == std::string::npos);
    const Datum back = decode_json(text);
    if (encode_json(back) != text ||
        !(back == d || text.find(R"("$float":"nan")") != std::string::npos))
      FAIL("round trip changed " << text << " into " << encode_json(back));
  }
}

TEST_CASE("datum_json refuses text that is not JSON and malformed tags", "[datum_json]") {
  auto code_of = [](const std::string& text) {
    try {
      decode_json(text);
    } catch (const ResourceError& e) {
      return e.code();
    }
    return std::string("no error");
  };
  CHECK(code_of("{\"a\":") == "provisioning::json::invalid");
  CHECK(code_of("") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$date":5})") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$duration":"5s"})") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$float":"1"})") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$bytes":"abc"})") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$bytes":"GG"})") == "provisioning::json::invalid");
  CHECK(code_of(R"({"$record":[["a"]]})") == "provisioning::json::invalid");
  CHECK(code_of("18446744073709551615") == "provisioning::json::invalid");
  CHECK(decode_json("9223372036854775807") == Datum(std::numeric_limits<int64_t>::max()));
}

namespace {

/// What read_plain_json must give for JSON that nlohmann reads: plain values, no tags.
Datum plain_of(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::boolean:
      return j.get<bool>();
    case nlohmann::ordered_json::value_t::number_integer:
      return j.get<int64_t>();
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      return u <= static_cast<uint64_t>(INT64_MAX) ? Datum(static_cast<int64_t>(u))
                                                   : Datum(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return j.get<double>();
    case nlohmann::ordered_json::value_t::string:
      return j.get<std::string>();
    case nlohmann::ordered_json::value_t::array: {
      DatumList l;
      for (const auto& e : j) l.push_back(plain_of(e));
      return l;
    }
    case nlohmann::ordered_json::value_t::object: {
      DatumRecord r;
      for (auto it = j.begin(); it != j.end(); ++it) r.emplace_back(it.key(), plain_of(*it));
      return r;
    }
    default:
      return nullptr;
  }
}

/// Random JSON text, mostly well-formed, with the spacing, escapes, numbers and text that
/// workflow files hold, and a few things the fast reader leaves to nlohmann.
std::string random_json(std::mt19937_64& rng, int depth) {
  static const std::vector<std::string> spaces = {"", "", " ", "\n  ", "\t", "\r\n"};
  static const std::vector<std::string> numbers = {"0",
                                                   "-0",
                                                   "7",
                                                   "-12",
                                                   "123456789012345678",
                                                   "-999999999999999999",
                                                   "1234567890123456789",
                                                   "18446744073709551615",
                                                   "99999999999999999999",
                                                   "1.5",
                                                   "-0.0",
                                                   "2.5e-3",
                                                   "1E5",
                                                   "6.02e+23",
                                                   "1e400",
                                                   "1e-400",
                                                   "0.1",
                                                   "3.141592653589793"};
  static const std::vector<std::string> strings = {
      R"("")",           R"("o12")",          R"("command")",      R"("a\"b\\c\/d")",
      R"("\b\f\n\r\t")", R"("\u00e9\u2713")", R"("\ud83d\ude00")", R"("\u0000")",
      "\"é ✓ 😀\"",       R"("\ud800")",       R"("\udc00x")",      "\"\xff\"",
      "\"tab\there\"",   R"("\x")",           R"("\u12")"};
  const std::string sp = spaces[rng() % spaces.size()];
  switch (rng() % (depth > 0 ? 6 : 4)) {
    case 0:
      return sp + (rng() % 3 == 0 ? "true" : rng() % 2 ? "false" : "null");
    case 1:
      return sp + numbers[rng() % numbers.size()];
    case 2:
    case 3:
      return sp + strings[rng() % strings.size()];
    case 4: {
      std::string out = sp + "[";
      for (int i = static_cast<int>(rng() % 5); i > 0; --i)
        out += random_json(rng, depth - 1) + (i > 1 ? "," : "");
      return out + sp + "]";
    }
    default: {
      static const std::vector<std::string> keys = {"id", "kind",  "run", "depends_on",
                                                    "é",  "a\\nb", "k"};
      std::string out = sp + "{";
      for (int i = static_cast<int>(rng() % 5); i > 0; --i)
        out += sp + "\"" + keys[rng() % keys.size()] + "\"" + sp + ":" +
               random_json(rng, depth - 1) + (i > 1 ? "," : "");
      return out + sp + "}";
    }
  }
}

/// read_plain_json agrees with nlohmann: the same value when it reads the text, and never a
/// value for text nlohmann refuses. Returns whether it read the text.
bool agrees_with_nlohmann(const std::string& text) {
  INFO(text);
  const std::optional<Datum> fast = read_plain_json(text, 256);
  nlohmann::ordered_json reference;
  try {
    reference = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception&) {
    CHECK_FALSE(fast.has_value());
    return false;
  }
  if (fast) CHECK(*fast == plain_of(reference));
  return fast.has_value();
}

}  // namespace

TEST_CASE("read_plain_json reads what nlohmann reads, the same way", "[datum_json]") {
  std::mt19937_64 rng(20261127);
  int read = 0, tried = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text = random_json(rng, 4);
    ++tried;
    if (agrees_with_nlohmann(text)) ++read;
    // The same text broken one byte at a time.
    if (text.empty()) continue;
    const size_t at = rng() % text.size();
    std::string cut = text;
    cut.erase(at, 1);
    agrees_with_nlohmann(cut);
    std::string extra = text;
    const std::string_view noise = "\",:[]{}0-.e \x01\xc3";
    extra.insert(at, 1, noise[rng() % noise.size()]);
    agrees_with_nlohmann(extra);
  }
  CHECK(read > tried / 4);  // most texts take the fast path; the rest go to nlohmann
}

TEST_CASE("read_plain_json keeps key order and leaves the unusual to its caller", "[datum_json]") {
  CHECK(read_plain_json(R"( {"b": [1, -2, 2.5, "s", null, false, [], {}], "a": {"x": true}} )",
                        256) ==
        Datum(rec({{"b", DatumList{1, -2, 2.5, "s", nullptr, false, DatumList{}, DatumRecord{}}},
                   {"a", rec({{"x", true}})}})));
  CHECK(read_plain_json(R"("\u00e9\ud83d\ude00\n")", 256) == Datum("é😀\n"));
  CHECK(read_plain_json("-0", 256) == Datum(0));
  CHECK(read_plain_json("999999999999999999", 256) == Datum(int64_t{999999999999999999}));
  CHECK(read_plain_json(std::string(256, '[') + std::string(256, ']'), 256));
  for (const std::string& text :
       {std::string(257, '[') + std::string(257, ']'), std::string(R"({"a": 1, "a": 2})"),
        std::string("\xef\xbb\xbf{}"), std::string("1234567890123456789"), std::string("1e400"),
        std::string("01"), std::string(R"("\ud800")"), std::string("\"\xff\""),
        std::string("\"a\tb\""), std::string("[1,]"), std::string("{} x"), std::string(""),
        std::string("tru"), std::string("1."), std::string(".5"), std::string("+1")}) {
    INFO(text);
    CHECK_FALSE(read_plain_json(text, 256).has_value());
  }
}

TEST_CASE("read_plain_json hands out the members of one list as it reads them", "[datum_json]") {
  std::mt19937_64 rng(20261206);
  int handed = 0;
  for (int i = 0; i < 2000; ++i) {
    // A random list (often of records, like operations) under `operations`, between others.
    std::string list = "[";
    const size_t n = rng() % 5;
    for (size_t k = 0; k < n; ++k) list += (k ? ", " : "") + random_json(rng, 3);
    list += "]";
    const std::string text = R"({"name": "w", "operations": )" + list + R"(, "vars": {"operations": [1, 2]}})";
    INFO(text);
    const std::optional<Datum> whole = read_plain_json(text, 256);
    DatumList items;
    size_t expected = SIZE_MAX;
    size_t depth = 0;
    const PlainJsonItems sink{"operations", [&](size_t count) { expected = count; },
                              [&](Datum&& item) { items.push_back(std::move(item)); }};
    const std::optional<Datum> rest = read_plain_json(text, 256, sink, &depth);
    REQUIRE(whole.has_value() == rest.has_value());
    if (!whole) continue;
    ++handed;
    CHECK(expected == n);
    CHECK(items == whole->find("operations")->list());
    Datum without = *whole;
    without.set("operations", DatumList{});
    CHECK(*rest == without);  // the nested `operations` of vars is kept
    CHECK(depth >= 2);
  }
  CHECK(handed > 500);  // random lists with a repeated key or an unusual number go to nlohmann
  // How deep the document nests: the top-level record is 1.
  size_t depth = 0;
  const PlainJsonItems none{"operations", {}, [](Datum&&) {}};
  CHECK(read_plain_json(R"({"a": 1})", 256, none, &depth));
  CHECK(depth == 1);
  CHECK(read_plain_json(R"({"operations": [{"x": [[1]]}], "a": [1]})", 256, none, &depth));
  CHECK(depth == 5);
}
