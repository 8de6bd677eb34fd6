// Golden bytes for every Value variant in both encodings. The JSON forms are the shapes real
// Nushell sends (captured from 0.115.1 and 0.108.0); the MessagePack forms are the same trees
// as rmp-serde's write_named lays them out. Each case encodes to exactly the golden bytes and
// decodes back to the same Value.

#include <catch2/catch.hpp>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/value_wire.hpp"

using namespace prov::plugin;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

Wire decode_one(Codec& c, const std::string& bytes) {
  c.feed(bytes);
  auto w = c.next();
  REQUIRE(w.has_value());
  return *w;
}

struct Golden {
  const char* name;
  Value value;
  Dialect dialect;
  const char* json;
  const char* msgpack_hex;
};

const Span S{10, 12};
const Dialect kNew{true}, kOld{false};

Range int_range() {
  Range r;
  r.int_start = 1;
  r.int_step = 2;
  r.int_end = {Bound<int64_t>::Kind::included, 10};
  return r;
}

Range float_range() {
  Range r;
  r.is_float = true;
  r.float_start = 1.5;
  r.float_step = 1.0;
  r.float_end = {Bound<double>::Kind::excluded, 3.0};
  return r;
}

CellPath cell_path() {
  CellPath c;
  c.members.push_back({false, "a", 0, Span{1, 2}, false, false});
  c.members.push_back({true, "", 0, Span{3, 4}, true, false});
  c.members.push_back({false, "b", 0, Span{5, 6}, false, true});
  return c;
}

std::vector<Golden> goldens() {
  LabeledError err;
  err.msg = "boom";
  err.labels.push_back({"here", S});
  err.code = "x::y";
  return {
      {"Bool", Value::boolean(true, S), kNew,
       R"({"Bool":{"val":true,"span":{"start":10,"end":12}}})",
       "81a4426f6f6c82a376616cc3a47370616e82a573746172740aa3656e640c"},
      {"Int", Value::integer(-300, S), kNew,
       R"({"Int":{"val":-300,"span":{"start":10,"end":12}}})",
       "81a3496e7482a376616cd1fed4a47370616e82a573746172740aa3656e640c"},
      {"Float", Value::floating(36.5, S), kNew,
       R"({"Float":{"val":36.5,"span":{"start":10,"end":12}}})",
       "81a5466c6f617482a376616ccb4042400000000000a47370616e82a573746172740aa3656e640c"},
      {"Filesize", Value::filesize(1000, S), kNew,
       R"({"Filesize":{"val":1000,"span":{"start":10,"end":12}}})",
       "81a846696c6573697a6582a376616ccd03e8a47370616e82a573746172740aa3656e640c"},
      {"Duration", Value::duration(5000000000, S), kNew,
       R"({"Duration":{"val":5000000000,"span":{"start":10,"end":12}}})",
       "81a84475726174696f6e82a376616ccf000000012a05f200a47370616e82a573746172740aa3656e640c"},
      {"Date", Value::date("2020-01-01T00:00:00+02:00", S), kNew,
       R"({"Date":{"val":"2020-01-01T00:00:00+02:00","span":{"start":10,"end":12}}})",
       "81a44461746582a376616cb9323032302d30312d30315430303a30303a30302b30323a3030a47370616e82a573746172740aa3656e640c"},
      {"Range (text, 0.114+)", Value::range(int_range(), S), kNew,
       R"({"Range":{"val":"1..3..10","span":{"start":10,"end":12}}})",
       "81a552616e676582a376616ca8312e2e332e2e3130a47370616e82a573746172740aa3656e640c"},
      {"Range (struct, before 0.114)", Value::range(int_range(), S), kOld,
       R"({"Range":{"val":{"IntRange":{"start":1,"step":2,"end":{"Included":10}}},"span":{"start":10,"end":12}}})",
       "81a552616e676582a376616c81a8496e7452616e676583a5737461727401a47374657002a3656e6481a8496e636c756465640aa47370616e82a573746172740aa3656e640c"},
      {"FloatRange (text)", Value::range(float_range(), S), kNew,
       R"({"Range":{"val":"1.5..<3.0","span":{"start":10,"end":12}}})",
       "81a552616e676582a376616ca9312e352e2e3c332e30a47370616e82a573746172740aa3656e640c"},
      {"FloatRange (struct)", Value::range(float_range(), S), kOld,
       R"({"Range":{"val":{"FloatRange":{"start":1.5,"step":1.0,"end":{"Excluded":3.0}}},"span":{"start":10,"end":12}}})",
       "81a552616e676582a376616c81aa466c6f617452616e676583a57374617274cb3ff8000000000000a473746570cb3ff0000000000000a3656e6481a84578636c75646564cb4008000000000000a47370616e82a573746172740aa3656e640c"},
      {"String", Value::string("héllo", S), kNew,
       R"({"String":{"val":"héllo","span":{"start":10,"end":12}}})",
       "81a6537472696e6782a376616ca668c3a96c6c6fa47370616e82a573746172740aa3656e640c"},
      {"Glob", Value::glob("src/**/*.rs", false, S), kNew,
       R"({"Glob":{"val":"src/**/*.rs","no_expand":false,"span":{"start":10,"end":12}}})",
       "81a4476c6f6283a376616cab7372632f2a2a2f2a2e7273a96e6f5f657870616e64c2a47370616e82a573746172740aa3656e640c"},
      {"Record", Value::record({{"foo", Value::integer(5, S)}, {"bar", Value::string("x", S)}}, S), kNew,
       R"({"Record":{"val":{"foo":{"Int":{"val":5,"span":{"start":10,"end":12}}},"bar":{"String":{"val":"x","span":{"start":10,"end":12}}}},"span":{"start":10,"end":12}}})",
       "81a65265636f726482a376616c82a3666f6f81a3496e7482a376616c05a47370616e82a573746172740aa3656e640ca362617281a6537472696e6782a376616ca178a47370616e82a573746172740aa3656e640ca47370616e82a573746172740aa3656e640c"},
      {"List", Value::list({Value::integer(1, S), Value::nothing(S)}, S), kNew,
       R"({"List":{"vals":[{"Int":{"val":1,"span":{"start":10,"end":12}}},{"Nothing":{"span":{"start":10,"end":12}}}],"span":{"start":10,"end":12}}})",
       "81a44c69737482a476616c739281a3496e7482a376616c01a47370616e82a573746172740aa3656e640c81a74e6f7468696e6781a47370616e82a573746172740aa3656e640ca47370616e82a573746172740aa3656e640c"},
      {"Closure", Value::closure(Closure{289, {{862, Value::string("bar", S)}}}, S), kNew,
       R"({"Closure":{"val":{"block_id":289,"captures":[[862,{"String":{"val":"bar","span":{"start":10,"end":12}}}]]},"span":{"start":10,"end":12}}})",
       "81a7436c6f7375726582a376616c82a8626c6f636b5f6964cd0121a863617074757265739192cd035e81a6537472696e6782a376616ca3626172a47370616e82a573746172740aa3656e640ca47370616e82a573746172740aa3656e640c"},
      {"Nothing", Value::nothing(S), kNew,
       R"({"Nothing":{"span":{"start":10,"end":12}}})",
       "81a74e6f7468696e6781a47370616e82a573746172740aa3656e640c"},
      {"Error", Value::error(err, S), kNew,
       R"({"Error":{"error":{"msg":"boom","labels":[{"text":"here","span":{"start":10,"end":12}}],"code":"x::y","url":null,"help":null,"inner":[]},"span":{"start":10,"end":12}}})",
       "81a54572726f7282a56572726f7286a36d7367a4626f6f6da66c6162656c739182a474657874a468657265a47370616e82a573746172740aa3656e640ca4636f6465a4783a3a79a375726cc0a468656c70c0a5696e6e657290a47370616e82a573746172740aa3656e640c"},
      {"Binary", Value::binary({0xaa, 0xbb}, S), kNew,
       R"({"Binary":{"val":[170,187],"span":{"start":10,"end":12}}})",
       "81a642696e61727982a376616c92ccaaccbba47370616e82a573746172740aa3656e640c"},
      {"CellPath (text, 0.114+)", Value::cell_path(cell_path(), S), kNew,
       R"({"CellPath":{"val":"$.a.0?.b!","span":{"start":10,"end":12}}})",
       "81a843656c6c5061746882a376616ca9242e612e303f2e6221a47370616e82a573746172740aa3656e640c"},
      {"CellPath (struct, before 0.114)", Value::cell_path(cell_path(), S), kOld,
       R"({"CellPath":{"val":{"members":[{"String":{"val":"a","span":{"start":1,"end":2},"optional":false,"casing":"Sensitive"}},{"Int":{"val":0,"span":{"start":3,"end":4},"optional":true}},{"String":{"val":"b","span":{"start":5,"end":6},"optional":false,"casing":"Insensitive"}}]},"span":{"start":10,"end":12}}})",
       "81a843656c6c5061746882a376616c81a76d656d626572739381a6537472696e6784a376616ca161a47370616e82a5737461727401a3656e6402a86f7074696f6e616cc2a6636173696e67a953656e73697469766581a3496e7483a376616c00a47370616e82a5737461727403a3656e6404a86f7074696f6e616cc381a6537472696e6784a376616ca162a47370616e82a5737461727405a3656e6406a86f7074696f6e616cc2a6636173696e67ab496e73656e736974697665a47370616e82a573746172740aa3656e640c"},
      {"Custom", Value::custom(CustomValue{"handle", {78, 60}, true}, S), kNew,
       R"({"Custom":{"val":{"type":"PluginCustomValue","name":"handle","data":[78,60],"notify_on_drop":true},"span":{"start":10,"end":12}}})",
       "81a6437573746f6d82a376616c84a474797065b1506c7567696e437573746f6d56616c7565a46e616d65a668616e646c65a464617461924e3cae6e6f746966795f6f6e5f64726f70c3a47370616e82a573746172740aa3656e640c"},
  };
}

}  // namespace

TEST_CASE("every Value variant encodes to its golden JSON and decodes back", "[value][json]") {
  for (const auto& g : goldens()) {
    INFO(g.name);
    auto codec = make_codec("json");
    std::string bytes;
    codec->encode(to_wire(g.value, g.dialect), bytes);
    CHECK(bytes == std::string(g.json) + "\n");
    Value back = value_from_wire(decode_one(*codec, g.json));
    // Text cell paths carry no member spans.
    if (g.value.is(Value::Type::CellPath) && g.dialect.text_ranges_and_cell_paths) {
      CHECK(cell_path_to_text(back.as_cell_path()) == cell_path_to_text(g.value.as_cell_path()));
    } else {
      CHECK(back == g.value);
    }
  }
}

TEST_CASE("every Value variant round-trips through MessagePack with fixed bytes", "[value][msgpack]") {
  for (const auto& g : goldens()) {
    INFO(g.name);
    auto codec = make_codec("msgpack");
    std::string bytes;
    codec->encode(to_wire(g.value, g.dialect), bytes);
    CHECK(hex(bytes) == g.msgpack_hex);
    // The MessagePack tree is the JSON tree: same shape, same order.
    Wire from_json = Wire::parse(g.json);
    auto decoded = decode_one(*codec, bytes);
    CHECK(decoded.dump() == from_json.dump());
    Value back = value_from_wire(decoded);
    if (g.value.is(Value::Type::CellPath) && g.dialect.text_ranges_and_cell_paths)
      CHECK(cell_path_to_text(back.as_cell_path()) == cell_path_to_text(g.value.as_cell_path()));
    else
      CHECK(back == g.value);
  }
}

TEST_CASE("MessagePack bin is accepted for bytes", "[value][msgpack]") {
  // {"Binary": {"val": bin8[2] aa bb, "span": {...}}}
  auto codec = make_codec("msgpack");
  Value v = value_from_wire(decode_one(*codec, unhex("81a642696e61727982a376616cc402aabba47370616e82a5737461727400a3656e6400")));
  REQUIRE(v.is(Value::Type::Binary));
  CHECK(std::get<std::vector<uint8_t>>(v.payload) == std::vector<uint8_t>{0xaa, 0xbb});
}

TEST_CASE("ranges read Nushell's text forms", "[value][range]") {
  CHECK(range_to_text(range_from_text("1..10")) == "1..10");
  CHECK(range_from_text("1..3..10").int_step == 2);
  CHECK(range_from_text("0..").int_end.kind == Bound<int64_t>::Kind::unbounded);
  CHECK(range_from_text("..5").int_start == 0);
  CHECK(range_from_text("-5..<-1").int_end.value == -1);
  CHECK(range_from_text("1.5..3.0").is_float);
  CHECK(range_to_text(range_from_text("1.5..2.0..3.5")) == "1.5..2.0..3.5");
  CHECK_THROWS_AS(range_from_text("1..2..3..4"), ProtocolError);
  CHECK_THROWS_AS(range_from_text("abc"), ProtocolError);
}

TEST_CASE("cell paths read Nushell's text forms", "[value][cellpath]") {
  CellPath c = cell_path_from_text("$.a.0?.b!");
  REQUIRE(c.members.size() == 3);
  CHECK(c.members[0].name == "a");
  CHECK(c.members[1].is_int);
  CHECK(c.members[1].optional);
  CHECK(c.members[2].case_insensitive);
  CellPath quoted = cell_path_from_text(R"($."a b"."x.y".'q')");
  REQUIRE(quoted.members.size() == 3);
  CHECK(quoted.members[0].name == "a b");
  CHECK(quoted.members[1].name == "x.y");
  CHECK(quoted.members[2].name == "q");
  CHECK(cell_path_to_text(quoted) == R"($."a b"."x.y".q)");
  CHECK(cell_path_from_text("$.").members.empty());
  CHECK_THROWS_AS(cell_path_from_text("$.\"open"), ProtocolError);
}

TEST_CASE("malformed values are refused with a message naming the problem", "[value]") {
  CHECK_THROWS_WITH(value_from_wire(Wire::parse(R"({"Int":{"val":"x","span":{"start":0,"end":0}}})")),
                    Catch::Contains("expected an integer"));
  CHECK_THROWS_WITH(value_from_wire(Wire::parse(R"({"Bogus":{"span":{"start":0,"end":0}}})")),
                    Catch::Contains("unknown variant 'Bogus'"));
  CHECK_THROWS_WITH(value_from_wire(Wire::parse(R"({"Int":{"val":1}})")), Catch::Contains("missing field 'span'"));
  CHECK_THROWS_WITH(value_from_wire(Wire::parse(R"({"Binary":{"val":[300],"span":{"start":0,"end":0}}})")),
                    Catch::Contains("byte out of range"));
  CHECK_THROWS_AS(value_from_wire(Wire::parse(R"([1,2])")), ProtocolError);
}
