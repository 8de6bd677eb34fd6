// The direct readers (MessagePack and JSON) against the Wire path: the same PluginInput for
// every message they read, nullopt (so the Wire path and its labeled errors) for everything else.

#include <catch2/catch.hpp>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/direct_input.hpp"

using namespace prov::plugin;

namespace {

std::string encoded(const char* codec, const Wire& w) {
  std::string out;
  make_codec(codec)->encode(w, out);
  return out;
}

std::string msgpack_of(const Wire& w) { return encoded("msgpack", w); }

std::optional<PluginInput> read_direct(const char* codec, std::string_view bytes) {
  return std::string_view(codec) == "msgpack" ? read_msgpack_input(bytes) : read_json_input(bytes);
}

const char* kRun = R"({"Call":[7,{"Run":{"name":"prov config get","call":{"head":{"start":10,"end":25},
  "positional":[{"String":{"val":"a.b","span":{"start":26,"end":29}}},
                {"Int":{"val":-5,"span":{"start":30,"end":32}}},
                {"Float":{"val":1.5,"span":{"start":1,"end":2}}},
                {"Bool":{"val":true,"span":{"start":1,"end":2}}},
                {"Duration":{"val":1000000000,"span":{"start":1,"end":2}}},
                {"Filesize":{"val":2048,"span":{"start":1,"end":2}}},
                {"Date":{"val":"2026-12-06T09:00:00+00:00","span":{"start":1,"end":2}}},
                {"Glob":{"val":"*.toml","no_expand":true,"span":{"start":1,"end":2}}},
                {"Nothing":{"span":{"start":3,"end":4}}},
                {"List":{"vals":[{"Int":{"val":1,"span":{"start":0,"end":0}}}],"span":{"start":5,"end":6}}},
                {"Record":{"val":{"x":{"String":{"val":"y","span":{"start":0,"end":1}}}},"span":{"start":7,"end":8}}}],
  "named":[[{"item":"workspace","span":{"start":40,"end":51}},{"String":{"val":"/w","span":{"start":52,"end":54}}}],
           [{"item":"all","span":{"start":55,"end":60}},null],
           ["old-style",null]]},
  "input":{"Value":[{"Record":{"val":{},"span":{"start":0,"end":0}}},null]}}}]})";

}  // namespace

TEST_CASE("direct input: the hot messages read as the Wire path reads them", "[messages][direct]") {
  const std::vector<Wire> messages = {
      Wire::parse(kRun),
      Wire::parse(R"({"Call":[0,"Metadata"]})"),
      Wire::parse(R"({"Call":[1,"Signature"]})"),
      Wire::parse(
          R"({"Call":[2,{"Run":{"name":"prov version","call":{"head":{"start":1,"end":13},"positional":[],"named":[]},"input":"Empty"}}]})"),
      Wire::parse(
          R"({"Call":[3,{"Run":{"name":"x","call":{"head":{"start":1,"end":2},"positional":[],"named":[]},"input":{"ListStream":{"id":4,"span":{"start":0,"end":9},"metadata":null}}}}]})"),
      Wire::parse(
          R"({"Call":[4,{"Run":{"name":"x","call":{"head":{"start":1,"end":2},"positional":[],"named":[]},"input":{"ByteStream":{"id":5,"span":{"start":0,"end":9},"type":"String"}}}}]})"),
      Wire::parse(R"({"Data":[3,{"List":{"String":{"val":"a","span":{"start":1,"end":2}}}}]})"),
      Wire::parse(R"({"Ack":18446744073709551615})"),
      Wire::parse(R"({"Drop":3})"),
      Wire::parse(R"({"End":3})"),
      Wire::parse(R"({"Signal":"Interrupt"})"),
      Wire("Goodbye"),
  };
  for (const char* codec : {"msgpack", "json"})
    for (const Wire& m : messages) {
      INFO(codec << " " << m.dump());
      const std::optional<PluginInput> direct = read_direct(codec, encoded(codec, m));
      REQUIRE(direct);
      CHECK(*direct == parse_plugin_input(m));
    }
  // JSON as Nushell may lay it out: spaces and newlines between tokens.
  const std::string spaced =
      "{ \"Call\" : [ 7 ,\n{\"Run\":{\"name\":\"x\",\"call\":{\"head\":{\"start\":1,\"end\":2},"
      "\"positional\":[ ],\"named\":[ ]},\"input\":\"Empty\"}} ] }";
  REQUIRE(read_json_input(spaced));
  CHECK(*read_json_input(spaced) == parse_plugin_input(Wire::parse(spaced)));
  // Spot checks, so that equality with the Wire path is not all there is.
  const PluginInput run = *read_msgpack_input(msgpack_of(Wire::parse(kRun)));
  CHECK(run.id == 7);
  CHECK(run.call.run.name == "prov config get");
  CHECK(run.call.run.call.head == Span{10, 25});
  REQUIRE(run.call.run.call.positional.size() == 11);
  CHECK(run.call.run.call.positional[1].as_int() == -5);
  CHECK(run.call.run.call.flag_value("workspace")->as_string() == "/w");
  CHECK(run.call.run.call.has_flag("all"));
  CHECK(run.call.run.input.kind == PipelineDataHeader::Kind::Value);
}

TEST_CASE("direct input: what it does not read is left to the Wire path", "[messages][direct]") {
  const std::vector<Wire> others = {
      // Messages read only through the Wire path.
      Wire::parse(R"({"Hello":{"protocol":"nu-plugin","version":"0.115.1","features":[]}})"),
      Wire::parse(R"({"EngineCallResponse":[0,{"PipelineData":"Empty"}]})"),
      Wire::parse(R"({"Call":[0,{"GetCompletion":{"name":"x"}}]})"),
      Wire::parse(R"({"Call":[0,"CustomValueOp"]})"),
      Wire::parse(R"({"Data":[0,{"Raw":{"Ok":[1,2]}}]})"),
      // Values of the less common kinds.
      Wire::parse(R"({"Data":[0,{"List":{"Range":{"val":"1..2","span":{"start":0,"end":0}}}}]})"),
      Wire::parse(R"({"Data":[0,{"List":{"Binary":{"val":[1],"span":{"start":0,"end":0}}}}]})"),
      // Malformed: each gets the Wire path's ProtocolError.
      Wire::parse(R"({"Call":[0]})"),
      Wire::parse(R"({"Call":[-1,"Metadata"]})"),
      Wire::parse(R"({"Ack":"x"})"),
      Wire::parse(R"({"Signal":"Stop"})"),
      Wire::parse(R"({"Data":[0,{"List":{"Int":{"val":1.5,"span":{"start":0,"end":0}}}}]})"),
      Wire::parse(R"({"Data":[0,{"List":{"Int":{"val":1}}}]})"),
      Wire::parse(R"({"Data":[0,{"List":{"Unknown":{"span":{"start":0,"end":0}}}}]})"),
      Wire::parse(
          R"({"Call":[1,{"Run":{"name":"x","call":{"head":{"start":1,"end":2},"positional":[]},"input":"Empty"}}]})"),
      Wire::parse(
          R"({"Call":[1,{"Run":{"name":"x","call":{"head":{"start":1,"end":2},"positional":[],"named":[["a"]]},"input":"Empty"}}]})"),
      Wire::parse(
          R"({"Call":[1,{"Run":{"name":"x","call":{"head":{"start":1,"end":2},"positional":[],"named":[]},"input":"Nothing"}}]})"),
      Wire::parse(R"({"Nope":1})"),
      Wire("Hello"),
  };
  for (const char* codec : {"msgpack", "json"})
    for (const Wire& m : others) {
      INFO(codec << " " << m.dump());
      CHECK_FALSE(read_direct(codec, encoded(codec, m)));
    }
}

TEST_CASE("direct input: malformed bytes are never read, whatever they hold", "[messages][direct]") {
  // Every prefix: cut short anywhere, the readers give up.
  for (const char* codec : {"msgpack", "json"}) {
    const std::string run = encoded(codec, Wire::parse(kRun));
    REQUIRE(read_direct(codec, run));
    for (size_t n = 0; n < run.size() - (codec[0] == 'j' ? 1 : 0); ++n)
      CHECK_FALSE(read_direct(codec, std::string_view(run).substr(0, n)));
  }
  const std::string run = msgpack_of(Wire::parse(kRun));
  // Trailing bytes, a reserved byte, an ext, a map key that is no string, a repeated record key.
  CHECK_FALSE(read_msgpack_input(run + '\x01'));
  CHECK_FALSE(read_msgpack_input("\xc1"));
  const auto b = [](std::initializer_list<int> l) {
    std::string s;
    for (int c : l) s.push_back(static_cast<char>(c));
    return s;
  };
  CHECK_FALSE(read_msgpack_input(b({0x81, 0xa3}) + "Ack" + b({0xd4, 0x01, 0x00})));
  const std::string int_key = b({0x81, 0xa4}) + "Data" + b({0x92, 0x00, 0x81, 0xa4}) + "List" + b({0x81, 0xa7}) +
                              "Nothing" + b({0x82, 0xa4}) + "span" + b({0x82, 0xa5}) + "start" + b({0x00, 0xa3}) +
                              "end" + b({0x00, 0x01, 0x02});
  CHECK_FALSE(read_msgpack_input(int_key));
  // The same message without that member is read: the key is what made the difference.
  std::string string_keys = int_key.substr(0, int_key.size() - 2);
  string_keys[string_keys.find("\x82\xa4span")] = static_cast<char>(0x81);
  CHECK(read_msgpack_input(string_keys));
  const Wire dup_key = Wire::parse(
      R"({"Data":[0,{"List":{"Record":{"val":{"a":{"Nothing":{"span":{"start":0,"end":0}}}},"span":{"start":0,"end":0}}}}]})");
  std::string dup = msgpack_of(dup_key);
  // Make the one-member record map say two members, the second a copy of the first.
  const std::string member = std::string(
                                 "\xa1"
                                 "a",
                                 2) +
                             msgpack_of(Wire::parse(R"({"Nothing":{"span":{"start":0,"end":0}}})"));
  const size_t at = dup.find(member);
  REQUIRE(at != std::string::npos);
  REQUIRE(static_cast<unsigned char>(dup[at - 1]) == 0x81);
  dup[at - 1] = static_cast<char>(0x82);
  dup.insert(at + member.size(), member);
  CHECK_FALSE(read_msgpack_input(dup));
}

TEST_CASE("direct input: JSON it is not sure of is left to the Wire path", "[messages][direct][json]") {
  const std::string ok = R"({"Data":[0,{"List":{"String":{"val":"plain","span":{"start":0,"end":0}}}}]})";
  REQUIRE(read_json_input(ok));
  const auto with = [&](std::string_view from, std::string_view to) {
    std::string s = ok;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  // Escapes and non-ASCII text: nlohmann unescapes and checks them.
  CHECK_FALSE(read_json_input(with("plain", "pl\\nain")));
  CHECK_FALSE(read_json_input(with("plain", "pl\xc3\xa4in")));
  // Numbers outside JSON's grammar, or that the Wire path reads otherwise.
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":00")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":1e2")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":18446744073709551616")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":0,\"x\":1e999")));
  CHECK(read_json_input(with("\"start\":0", "\"start\":0,\"x\":[1.5e3,-0,true,null,{}]")));
  // Broken syntax anywhere, skipped parts included.
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":0,")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":0,\"x\":[1,]")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\":0,\"x\":tru")));
  CHECK_FALSE(read_json_input(with("\"start\":0", "\"start\" 0")));
  CHECK_FALSE(read_json_input(ok + "{}"));
}

TEST_CASE("codecs: next_input gives what next and parse_plugin_input give", "[codec][direct]") {
  const Wire run = Wire::parse(kRun);
  const Wire hello = Wire::parse(R"({"Hello":{"protocol":"nu-plugin","version":"0.115.1","features":[]}})");
  const std::string bytes = msgpack_of(hello) + msgpack_of(run) + msgpack_of(Wire("Goodbye"));
  auto codec = make_codec("msgpack");
  codec->feed(bytes);
  std::vector<PluginInput> got;
  while (auto in = codec->next_input()) got.push_back(std::move(*in));
  REQUIRE(got.size() == 3);
  CHECK(got[0] == parse_plugin_input(hello));
  CHECK(got[1] == parse_plugin_input(run));
  CHECK(got[2].kind == PluginInput::Kind::Goodbye);
  // A malformed message still gets the Wire path's error, naming what is wrong.
  auto bad = make_codec("msgpack");
  bad->feed(msgpack_of(Wire::parse(R"({"Call":[0]})")));
  CHECK_THROWS_WITH(bad->next_input(), Catch::Contains("Call: expected a tuple"));
  auto json = make_codec("json");
  json->feed(run.dump() + "\n" + hello.dump() + "\n");
  CHECK(*json->next_input() == parse_plugin_input(run));
  CHECK(*json->next_input() == parse_plugin_input(hello));
  CHECK_FALSE(json->next_input());
  auto bad_json = make_codec("json");
  bad_json->feed(R"({"Call":[0]})");
  CHECK_THROWS_WITH(bad_json->next_input(), Catch::Contains("Call: expected a tuple"));
}
