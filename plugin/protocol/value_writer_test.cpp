// The direct writers must produce exactly the bytes of the Wire path (to_wire + codec), for
// every kind of value, in both encodings and both dialects.

#include "plugin/protocol/value_writer.hpp"

#include <catch2/catch.hpp>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/messages.hpp"

using namespace prov::plugin;

namespace {
std::vector<Value> samples() {
  Span s{3, 9};
  Range r;
  r.int_start = 1;
  r.int_step = 2;
  r.int_end = {Bound<int64_t>::Kind::excluded, 9};
  CellPath c;
  c.members.push_back({false, "a b", 0, Span{1, 2}, true, false});
  LabeledError e;
  e.msg = "x";
  std::string long_text(300, 'y');
  std::vector<Value> many;
  for (int i = 0; i < 70; ++i) many.push_back(Value::integer(i * 1000 - 35000, s));
  Record big;
  for (int i = 0; i < 20; ++i) big.emplace_back("k" + std::to_string(i), Value::floating(i / 3.0, s));
  return {
      Value::boolean(false, s), Value::integer(-1, s), Value::integer(-33, s), Value::integer(200, s),
      Value::integer(70000, s), Value::integer(INT64_MIN, s), Value::integer(INT64_MAX, s),
      Value::integer(-1000, s), Value::integer(-100000, s), Value::integer(int64_t{1} << 40, s),
      Value::string(std::string(40, 'z'), s), Value::string(std::string(70000, 'w'), s),
      // A row of `prov workflow plan`, the shape streamed most.
      Value::record({{"step", Value::integer(150001, s)}, {"level", Value::integer(17, s)},
                     {"id", Value::string("o46002", s)}, {"kind", Value::string("command", s)},
                     {"depends_on", Value::list({Value::string("o30493", s), Value::string("o7", s)}, s)}},
                    s),
      Value::floating(0.1, s), Value::floating(1.0, s), Value::floating(-2.5e300, s), Value::filesize(1 << 30, s),
      Value::duration(5'000'000'000, s), Value::date("2020-01-01T00:00:00+02:00", s),
      Value::string("quote \" backslash \\ newline \n tab \t control \x01 unicode é", s), Value::string(long_text, s),
      Value::nothing(s), Value::list(many, s), Value::record(big, s),
      Value::record({{"nested", Value::list({Value::record({{"x", Value::nothing(s)}}, s)}, s)}}, s),
      Value::range(r, s), Value::cell_path(c, s), Value::error(e, s), Value::binary({1, 2, 255}, s),
      Value::glob("*.rs", true, s), Value::closure(Closure{7, {}}, s), Value::custom(CustomValue{"n", {1}, false}, s),
      // Bytes that are not UTF-8 (a command's output): Nushell would refuse the whole answer.
      Value::string("bad \xff\xfe bytes \xe2\x82", s), Value::record({{"k\xc3", Value::string("\xc0\xaf", s)}}, s),
  };
}
}  // namespace

TEST_CASE("direct writers match the Wire path byte for byte", "[value][writer]") {
  for (Dialect d : {Dialect{true}, Dialect{false}}) {
    for (auto [name, enc] : {std::pair{"json", Encoding::json}, std::pair{"msgpack", Encoding::msgpack}}) {
      auto codec = make_codec(name);
      for (const auto& v : samples()) {
        INFO(name << " " << v.type_name() << " dialect " << d.text_ranges_and_cell_paths);
        std::string expected, got;
        codec->encode(call_response(42, Wire{{"PipelineData", value_header(v, d)}}), expected);
        write_value_response(enc, 42, v, d, got);
        CHECK(got == expected);
        expected.clear();
        got.clear();
        codec->encode(list_data_message(7, v, d), expected);
        write_list_data(enc, 7, v, d, got);
        CHECK(got == expected);
      }
    }
  }
}

TEST_CASE("text that is not UTF-8 goes out with U+FFFD for each bad byte, in both encodings", "[value][writer]") {
  const Value v = Value::record({{"k\xc3", Value::string("a\xff\xfe" "b", Span{})}}, Span{});
  for (Encoding enc : {Encoding::json, Encoding::msgpack}) {
    std::string out;
    write_value_response(enc, 1, v, Dialect{true}, out);
    CHECK(out.find("a\xEF\xBF\xBD\xEF\xBF\xBD" "b") != std::string::npos);
    CHECK(out.find("k\xEF\xBF\xBD") != std::string::npos);
    CHECK(out.find('\xff') == std::string::npos);
  }
}
