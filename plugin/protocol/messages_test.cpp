// The GetCompletion call and its CompletionItems answer, in both encodings: what Nushell sends
// (an ast::Call of which only literals are read), what is malformed, and what goes back.

#include <catch2/catch.hpp>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/messages.hpp"

using namespace prov::plugin;

namespace {

// As Nushell 0.115.1 sends it for `<cmd> --provider x ab --provider <cursor>` (captured; renamed),
// with the cursor at 147148.
const char* kCompletionCall = R"({"Call": [7, {"GetCompletion": {"name": "prov server get",
  "arg_type": {"Flag": "provider"},
  "call": {"call": {"decl_id": 528, "head": {"start": 147112, "end": 147120}, "arguments": [
    {"Named": [{"item": "provider", "span": {"start": 147121, "end": 147131}}, null,
               {"expr": {"String": "x"}, "span": {"start": 147132, "end": 147133}, "span_id": 4618, "ty": "String"}]},
    {"Positional": {"expr": {"String": "ab"}, "span": {"start": 147134, "end": 147136}, "span_id": 4619,
                    "ty": "String"}},
    {"Named": [{"item": "provider", "span": {"start": 147137, "end": 147147}}, null, null]}],
    "parser_info": {}}, "strip": false, "pos": 147148}}}]})";

/// `message` encoded as `encoding` by an encoder other than ours, then read back by our codec.
PluginInput through(const char* encoding, const Wire& message) {
  auto codec = make_codec(encoding);
  std::string bytes;
  if (std::string_view(encoding) == "msgpack") {
    std::vector<uint8_t> packed = Wire::to_msgpack(message);
    bytes.assign(packed.begin(), packed.end());
  } else {
    bytes = message.dump();
  }
  codec->feed(bytes);
  auto decoded = codec->next();
  REQUIRE(decoded);
  return parse_plugin_input(*decoded);
}

Wire completion(Wire arg_type, Wire arguments, uint64_t pos = 1000) {
  return Wire{{"Call", Wire::array({1, Wire{{"GetCompletion",
                                             {{"name", "prov config get"},
                                              {"arg_type", std::move(arg_type)},
                                              {"call",
                                               {{"call",
                                                 {{"decl_id", 1},
                                                  {"head", {{"start", 10}, {"end", 25}}},
                                                  {"arguments", std::move(arguments)},
                                                  {"parser_info", Wire::object()}}},
                                                {"strip", false},
                                                {"pos", pos}}}}}}})}};
}

Wire positional(Wire expr, uint64_t start, uint64_t end) {
  return Wire{{"Positional",
               {{"expr", std::move(expr)}, {"span", {{"start", start}, {"end", end}}}, {"span_id", 3}, {"ty", "Any"}}}};
}

}  // namespace

TEST_CASE("GetCompletion: the command, the argument asked about and the literal arguments", "[messages]") {
  for (const char* encoding : {"json", "msgpack"}) {
    INFO(encoding);
    PluginInput in = through(encoding, Wire::parse(kCompletionCall));
    REQUIRE(in.kind == PluginInput::Kind::Call);
    CHECK(in.id == 7);
    REQUIRE(in.call.kind == PluginCall::Kind::GetCompletion);
    CHECK(in.call.problem.empty());
    const GetCompletionInfo& info = in.call.completion;
    CHECK(info.name == "prov server get");
    CHECK(info.arg_type.kind == GetCompletionArgType::Kind::Flag);
    CHECK(info.arg_type.flag == "provider");
    CHECK(info.pos == 147148);
    CHECK(info.call.head == Span{147112, 147120});
    // The flag under the cursor is left out; the one written before it is kept.
    REQUIRE(info.call.named.size() == 1);
    CHECK(info.call.flag_value("provider")->as_string() == "x");
    CHECK(info.call.named[0].name_span == Span{147121, 147131});
    REQUIRE(info.call.positional.size() == 1);
    CHECK(info.call.positional[0].as_string() == "ab");
    CHECK(info.call.positional[0].span == Span{147134, 147136});
  }
}

TEST_CASE("GetCompletion: a positional index, literals of every kind, and the rest skipped", "[messages]") {
  Wire args = Wire::array({
      positional(Wire{{"Int", 5}}, 26, 27), positional(Wire{{"Directory", Wire::array({"ws/a", false})}}, 28, 32),
      positional(Wire{{"Subexpression", 12}}, 33, 40),  // not known before it runs
      positional("Garbage", 41, 42),                    // a unit variant
      Wire{{"Named", Wire::array({{{"item", ""}, {"span", {{"start", 43}, {"end", 45}}}},
                                  {{"item", "w"}, {"span", {{"start", 43}, {"end", 45}}}},
                                  {{"expr", {{"Filepath", Wire::array({"/tmp/w", true})}}},
                                   {"span", {{"start", 46}, {"end", 52}}}}})}},  // only a short name
      Wire{{"Named", Wire::array({{{"item", "all"}, {"span", {{"start", 53}, {"end", 58}}}}, nullptr, nullptr})}},
      Wire{{"Named", Wire::array({{{"item", "env"}, {"span", {{"start", 59}, {"end", 64}}}},
                                  nullptr,
                                  {{"expr", {{"Var", 4}}}, {"span", {{"start", 65}, {"end", 67}}}}})}},
      Wire{{"Spread", {{"expr", {{"List", Wire::array()}}}}}}, Wire{{"SomethingNew", {{"x", 1}}}}, Wire::array({1, 2}),
      "Unknown", positional(Wire{{"String", "prov"}}, 999, 1004),  // the argument being completed
  });
  for (const char* encoding : {"json", "msgpack"}) {
    INFO(encoding);
    PluginInput in = through(encoding, completion(Wire{{"Positional", 0}}, args));
    REQUIRE(in.call.kind == PluginCall::Kind::GetCompletion);
    REQUIRE(in.call.problem.empty());
    const GetCompletionInfo& info = in.call.completion;
    CHECK(info.arg_type.kind == GetCompletionArgType::Kind::Positional);
    CHECK(info.arg_type.index == 0);
    // Positionals keep their places: what is not a literal is Nothing.
    REQUIRE(info.call.positional.size() == 5);
    CHECK(info.call.positional[0].as_int() == 5);
    CHECK(info.call.positional[1].as_string() == "ws/a");
    CHECK(info.call.positional[2].is(Value::Type::Nothing));
    CHECK(info.call.positional[3].is(Value::Type::Nothing));
    CHECK(info.call.positional[4].is(Value::Type::Nothing));
    // A flag whose value is not a literal is left out; a switch is kept without a value.
    REQUIRE(info.call.named.size() == 2);
    CHECK(info.call.named[0].name == "w");
    CHECK(info.call.named[0].value->as_string() == "/tmp/w");
    CHECK(info.call.has_flag("all"));
    CHECK_FALSE(info.call.flag("env"));
  }
}

TEST_CASE("GetCompletion: an unreadable call is reported, not fatal", "[messages]") {
  const Wire head_only = Wire{{"call", Wire::object()}};
  std::vector<Wire> bodies = {
      "GetCompletion",                                                                // no body at all
      Wire{{"GetCompletion", {{"arg_type", {{"Flag", "x"}}}, {"call", head_only}}}},  // no name
      Wire{{"GetCompletion", {{"name", 5}, {"arg_type", {{"Flag", "x"}}}, {"call", head_only}}}},
      Wire{{"GetCompletion", {{"name", "prov"}, {"arg_type", {{"Rest", 1}}}, {"call", head_only}}}},
      Wire{{"GetCompletion", {{"name", "prov"}, {"arg_type", {{"Positional", -1}}}, {"call", head_only}}}},
      Wire{{"GetCompletion", {{"name", "prov"}, {"arg_type", "Flag"}, {"call", head_only}}}},
      Wire{{"GetCompletion", {{"name", "prov"}, {"arg_type", {{"Flag", "x"}}}}}},  // no call
      Wire{{"GetCompletion", {{"name", "prov"}, {"arg_type", {{"Flag", "x"}}}, {"call", {{"pos", -3}}}}}},
  };
  for (const char* encoding : {"json", "msgpack"})
    for (const auto& body : bodies) {
      INFO(encoding << " " << body.dump());
      PluginInput in = through(encoding, Wire{{"Call", Wire::array({4, body})}});
      CHECK(in.id == 4);
      CHECK(in.call.kind == PluginCall::Kind::GetCompletion);
      CHECK_FALSE(in.call.problem.empty());
    }
  // A call whose ast::Call is something else entirely still asks for completions.
  PluginInput odd = through(
      "json",
      Wire{{"Call",
            Wire::array(
                {4, Wire{{"GetCompletion",
                          {{"name", "prov"}, {"arg_type", {{"Positional", 0}}}, {"call", {{"call", "???"}}}}}}})}});
  CHECK(odd.call.problem.empty());
  CHECK(odd.call.completion.call.positional.empty());
}

TEST_CASE("CompletionItems: null, or items with value and append_whitespace always present", "[messages]") {
  CHECK(completion_items_response(3, std::nullopt) == Wire::parse(R"({"CallResponse":[3,{"CompletionItems":null}]})"));
  std::vector<DynamicSuggestion> items(2);
  items[0].value = "wf-1";
  items[0].description = "deploy: completed";
  items[1].value = "local";
  items[1].append_whitespace = false;
  Wire w = completion_items_response(4, items);
  CHECK(w == Wire::parse(R"({"CallResponse":[4,{"CompletionItems":[
      {"value":"wf-1","description":"deploy: completed","append_whitespace":true},
      {"value":"local","append_whitespace":false}]}]})"));
  CHECK(completion_items_response(5, std::vector<DynamicSuggestion>{}) ==
        Wire::parse(R"({"CallResponse":[5,{"CompletionItems":[]}]})"));
  // MessagePack: maps with named fields (Nushell encodes with rmp_serde's write_named), nil for null.
  auto codec = make_codec("msgpack");
  std::string bytes;
  codec->encode(w, bytes);
  CHECK(Wire::from_msgpack(bytes) == w);
  bytes.clear();
  codec->encode(completion_items_response(3, std::nullopt), bytes);
  CHECK(Wire::from_msgpack(bytes)["CallResponse"][1]["CompletionItems"].is_null());
}
