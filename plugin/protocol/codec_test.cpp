// Framing: messages split across reads at every byte, several messages in one read, oversized
// and truncated frames, garbage and hostile nesting, in both encodings.

#include <catch2/catch.hpp>

#include "plugin/protocol/codec.hpp"

using namespace prov::plugin;

namespace {

std::vector<Wire> sample_messages() {
  return {
      Wire::parse(R"({"Hello":{"protocol":"nu-plugin","version":"0.115.1","features":[{"name":"LocalSocket"}]}})"),
      Wire::parse(R"({"Call":[0,"Metadata"]})"),
      Wire("Goodbye"),
      Wire::parse(R"({"Data":[3,{"List":{"String":{"val":"a \"quoted\" {brace} [x]","span":{"start":1,"end":2}}}}]})"),
      Wire::parse(R"({"Ack":18446744073709551615})"),
  };
}

std::string encode_all(Codec& c, const std::vector<Wire>& msgs) {
  std::string out;
  for (const auto& m : msgs) c.encode(m, out);
  return out;
}

std::vector<Wire> drain(Codec& c) {
  std::vector<Wire> out;
  while (auto m = c.next()) out.push_back(*m);
  return out;
}

}  // namespace

TEST_CASE("messages survive being split at every byte", "[codec]") {
  for (const char* name : {"json", "msgpack"}) {
    INFO(name);
    auto enc = make_codec(name);
    auto msgs = sample_messages();
    std::string bytes = encode_all(*enc, msgs);
    for (size_t split = 0; split <= bytes.size(); ++split) {
      auto dec = make_codec(name);
      dec->feed(std::string_view(bytes).substr(0, split));
      auto got = drain(*dec);
      dec->feed(std::string_view(bytes).substr(split));
      auto rest = drain(*dec);
      got.insert(got.end(), rest.begin(), rest.end());
      REQUIRE(got.size() == msgs.size());
      for (size_t i = 0; i < msgs.size(); ++i) CHECK(got[i] == msgs[i]);
      CHECK_FALSE(dec->has_partial());
    }
  }
}

TEST_CASE("byte-at-a-time delivery yields each message exactly once", "[codec]") {
  for (const char* name : {"json", "msgpack"}) {
    INFO(name);
    auto enc = make_codec(name);
    auto msgs = sample_messages();
    std::string bytes = encode_all(*enc, msgs);
    auto dec = make_codec(name);
    std::vector<Wire> got;
    for (char c : bytes) {
      dec->feed(std::string_view(&c, 1));
      auto some = drain(*dec);
      got.insert(got.end(), some.begin(), some.end());
    }
    CHECK(got == msgs);
  }
}

TEST_CASE("JSON accepts whitespace and newlines between and inside messages", "[codec][json]") {
  auto dec = make_codec("json");
  dec->feed("\n  {\"Call\" :\n [1, \"Signature\"]}\r\n\t\"Goodbye\"  ");
  auto got = drain(*dec);
  REQUIRE(got.size() == 2);
  CHECK(got[0]["Call"][1] == "Signature");
  CHECK(got[1] == "Goodbye");
  CHECK_FALSE(dec->has_partial());
}

TEST_CASE("a truncated frame is reported as partial", "[codec]") {
  for (const char* name : {"json", "msgpack"}) {
    INFO(name);
    auto enc = make_codec(name);
    std::string bytes;
    enc->encode(sample_messages()[0], bytes);
    auto dec = make_codec(name);
    dec->feed(std::string_view(bytes).substr(0, bytes.size() - 3));
    CHECK_FALSE(dec->next().has_value());
    CHECK(dec->has_partial());
  }
}

TEST_CASE("garbage is a ProtocolError, not a crash", "[codec]") {
  SECTION("json: not a document") {
    auto dec = make_codec("json");
    dec->feed("hello world\n");
    CHECK_THROWS_AS(dec->next(), ProtocolError);
  }
  SECTION("json: malformed document") {
    auto dec = make_codec("json");
    dec->feed("{\"Call\": [1, ]}");
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("malformed"));
  }
  SECTION("json: unbalanced brackets") {
    auto dec = make_codec("json");
    dec->feed("{]}");
    CHECK_THROWS_AS(dec->next(), ProtocolError);
  }
  SECTION("msgpack: reserved byte 0xc1") {
    auto dec = make_codec("msgpack");
    dec->feed("\xc1");
    CHECK_THROWS_AS(dec->next(), ProtocolError);
  }
  SECTION("msgpack: non-string map key") {
    auto dec = make_codec("msgpack");
    dec->feed(std::string("\x81\x01\x02", 3));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("map key"));
  }
}

TEST_CASE("oversized and over-nested messages are refused", "[codec]") {
  CodecLimits small;
  small.max_message_bytes = 64;
  small.max_depth = 8;
  SECTION("json size") {
    auto dec = make_codec("json", small);
    dec->feed("{\"a\":\"" + std::string(100, 'x'));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("larger than 64 bytes") &&
                                       Catch::Contains("PROVISIONING_LIMITS_MESSAGE_SIZE"));
  }
  SECTION("json depth") {
    auto dec = make_codec("json", small);
    dec->feed("{\"a\":" + std::string(20, '['));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("nests deeper than 8 levels") && Catch::Contains("limits.depth"));
  }
  SECTION("msgpack string longer than the limit") {
    auto dec = make_codec("msgpack", small);
    // str32 announcing 1 MiB, then more bytes than the limit allows to buffer
    dec->feed(std::string("\xdb\x00\x10\x00\x00", 5) + std::string(100, 'x'));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("larger than 64 bytes") && Catch::Contains("limits.message_size"));
  }
  SECTION("msgpack: headers announcing more than the limit are refused before the bytes arrive") {
    // array32 of 256 members: at least 256 bytes to come
    auto dec = make_codec("msgpack", small);
    dec->feed(std::string("\xdd\x00\x00\x01\x00", 5));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("larger than 64 bytes"));
    // two arrays of 32 members, each within the limit, not together
    dec = make_codec("msgpack", small);
    dec->feed(std::string("\x92\xdc\x00\x20\xdc\x00\x20", 7));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("larger than 64 bytes"));
  }
  SECTION("msgpack: an announced array waits for its members; nothing is allocated for them") {
    // 200 million members in five bytes: msgpack-c's streaming unpacker allocated 4.8 GB here
    // (tests/fuzz/msgpack_decode/regression-huge-array replays it under the fuzzer's limits).
    auto dec = make_codec("msgpack");
    dec->feed(std::string("\xdd\x0b\xeb\xc2\x00", 5));
    CHECK_FALSE(dec->next());
    CHECK(dec->has_partial());
    dec = make_codec("msgpack");
    dec->feed(std::string("\x93\x01", 2));
    CHECK_FALSE(dec->next());
    dec->feed(std::string("\xa1", 1));
    CHECK_FALSE(dec->next());
    dec->feed(std::string("x\xc0", 2));
    const std::optional<Wire> w = dec->next();
    REQUIRE(w);
    CHECK(*w == Wire::array({1, "x", nullptr}));
    CHECK_FALSE(dec->has_partial());
    dec->feed(std::string("\x81\xa1k", 3));  // a map whose value is still to come
    const std::optional<Wire> second = dec->next();
    CHECK_FALSE(second);
    CHECK(dec->has_partial());
  }
  SECTION("msgpack depth") {
    auto dec = make_codec("msgpack", small);
    dec->feed(std::string(20, '\x91'));
    CHECK_THROWS_WITH(dec->next(), Catch::Contains("nests deeper than 8 levels"));
  }
}

TEST_CASE("codec limits follow the configured value depth, capped", "[codec]") {
  CHECK(codec_limits(1000, 64).max_message_bytes == 1000);
  CHECK(codec_limits(1000, 64).max_depth == 4 * 64 + 32);
  CHECK(codec_limits(1000, 100000).max_depth == 1024);
  // A record nested a few levels more than `depth` in a Run call's input still arrives.
  auto dec = make_codec("json", codec_limits(1 << 20, 4));
  std::string value = "{\"Int\":{\"val\":1,\"span\":{\"start\":0,\"end\":1}}}";
  for (int i = 0; i < 4 + 4; ++i)
    value = "{\"Record\":{\"val\":{\"a\":" + value + "},\"span\":{\"start\":0,\"end\":1}}}";
  dec->feed("{\"Call\":[0,{\"Run\":{\"name\":\"prov\",\"call\":{\"head\":{\"start\":0,\"end\":1},"
            "\"positional\":[],\"named\":[]},\"input\":{\"Value\":[" + value + ",null]}}}]}");
  CHECK(dec->next());
}

TEST_CASE("a msgpack message cut short is partial, even once its start was parsed", "[codec]") {
  auto dec = make_codec("msgpack");
  // {"Call": [0, …]}: the map, its key and the array's first member, then nothing.
  dec->feed(std::string("\x81\xa4" "Call" "\x92\x00", 8));
  CHECK_FALSE(dec->next());
  CHECK(dec->has_partial());
  dec->feed(std::string("\xa8" "Metadata", 9));
  CHECK(dec->next());
  CHECK_FALSE(dec->has_partial());
  // Two messages in one read: after the first, the second's bytes are still partial.
  dec->feed(std::string("\xc0\x81", 2));
  CHECK(dec->next());
  CHECK_FALSE(dec->next());
  CHECK(dec->has_partial());
}
