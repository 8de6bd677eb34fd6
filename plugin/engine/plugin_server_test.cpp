// The server against a scripted engine: the plugin runs in a forked child on pipes, the test
// plays Nushell's side in JSON. Covers the handshake, concurrency, engine calls, flow control,
// Drop, signals, Goodbye and garbage.

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/support/spawn.hpp"
#include "plugin/commands/command.hpp"
#include "plugin/engine/labeled_error_exception.hpp"
#include "plugin/engine/plugin_server.hpp"
#include "plugin/protocol/json_codec.hpp"

using namespace prov::plugin;
using namespace std::chrono_literals;

namespace {

std::atomic<int> g_pulled{0};

class TestCommand : public Command {
 public:
  using Fn = std::function<PipelineOutput(EngineInterface&, const EvaluatedCall&, PipelineInput&)>;
  using CompleteFn =
      std::function<std::optional<std::vector<DynamicSuggestion>>(EngineInterface&, const GetCompletionInfo&)>;
  TestCommand(std::string name, Fn fn, CompleteFn complete = {})
      : name_(std::move(name)), fn_(std::move(fn)), complete_(std::move(complete)) {}
  Signature signature() const override {
    Signature s;
    s.name = name_;
    s.description = "test";
    s.input_output_types = {{type::any(), type::any()}};
    return s;
  }
  PipelineOutput run(EngineInterface& e, const EvaluatedCall& c, PipelineInput& i) const override { return fn_(e, c, i); }
  std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& e,
                                                         const GetCompletionInfo& info) const override {
    return complete_ ? complete_(e, info) : std::nullopt;
  }

 private:
  std::string name_;
  Fn fn_;
  CompleteFn complete_;
};

CommandRegistry test_registry() {
  CommandRegistry r;
  r.add(std::make_unique<TestCommand>("fast", [](auto&, auto& c, auto&) {
    return PipelineOutput::of(Value::integer(7, c.head));
  }));
  r.add(std::make_unique<TestCommand>("slow", [](EngineInterface& e, auto& c, auto&) {
    bool interrupted = e.signals().sleep_for(5s);
    return PipelineOutput::of(Value::string(interrupted ? "interrupted" : "slept", c.head));
  }));
  r.add(std::make_unique<TestCommand>("naps", [](EngineInterface&, auto& c, auto&) {
    std::this_thread::sleep_for(300ms);
    return PipelineOutput::of(Value::string("done", c.head));
  }));
  r.add(std::make_unique<TestCommand>("forever", [](auto&, auto& c, auto&) {
    return PipelineOutput::stream([]() -> std::optional<Value> { return Value::integer(g_pulled++); }, c.head);
  }));
  r.add(std::make_unique<TestCommand>("pulled", [](auto&, auto& c, auto&) {
    return PipelineOutput::of(Value::integer(g_pulled.load(), c.head));
  }));
  r.add(std::make_unique<TestCommand>("cwd", [](EngineInterface& e, auto& c, auto&) {
    return PipelineOutput::of(Value::string(e.get_current_dir(), c.head));
  }));
  r.add(std::make_unique<TestCommand>("sum", [](auto&, auto& c, PipelineInput& in) {
    Value v = in.collect();
    int64_t total = 0;
    for (const auto& x : v.as_list()) total += x.as_int();
    return PipelineOutput::of(Value::integer(total, c.head));
  }));
  r.add(std::make_unique<TestCommand>("text", [](auto&, auto& c, PipelineInput& in) {
    Value v = in.collect();
    return PipelineOutput::of(Value::string(v.type_name() + ":" + v.as_string(), c.head));
  }));
  r.add(std::make_unique<TestCommand>("gc", [](EngineInterface& e, auto& c, auto&) {
    e.set_gc_disabled(true);
    return PipelineOutput::of(Value::nothing(c.head));
  }));
  r.add(std::make_unique<TestCommand>("lookup", [](EngineInterface& e, auto& c, auto&) {
    auto v = e.get_env_var("HOME");
    auto pc = e.get_plugin_config();
    auto all = e.get_env_vars();
    return PipelineOutput::of(Value::record({{"home", v ? *v : Value::string("unset")},
                                             {"config", pc ? *pc : Value::string("none")},
                                             {"count", Value::integer(static_cast<int64_t>(all.size()))}},
                                            c.head));
  }));
  r.add(std::make_unique<TestCommand>("closure", [](EngineInterface& e, auto& c, auto&) {
    Value closure = Value::closure(Closure{72, {}}, Span{780, 812});
    Value out = e.eval_closure(closure, {Value::integer(7)}, Value::integer(7));
    return PipelineOutput::of(Value::integer(static_cast<int64_t>(out.as_list().size()), c.head));
  }));
  r.add(std::make_unique<TestCommand>("fail", [](auto&, auto& c, auto&) -> PipelineOutput {
    throw labeled("it failed", "right here", c.head, "test::fail");
  }));
  // Completes its first positional with the engine's current directory and the flag it was given.
  r.add(std::make_unique<TestCommand>(
      "completing", [](auto&, auto& c, auto&) { return PipelineOutput::of(Value::nothing(c.head)); },
      [](EngineInterface& e, const GetCompletionInfo& info) -> std::optional<std::vector<DynamicSuggestion>> {
        if (info.arg_type.kind != GetCompletionArgType::Kind::Positional) return std::nullopt;
        if (info.call.flag("broken")) throw labeled("cannot complete", "here", info.call.head, "test::complete");
        DynamicSuggestion here;
        here.value = e.get_current_dir();
        here.description = "cwd";
        DynamicSuggestion flag;
        flag.value = info.call.flag_value("mode") ? info.call.flag_value("mode")->as_string() : "none";
        return std::vector<DynamicSuggestion>{here, flag};
      }));
  return r;
}

/// Nushell's side of the pipes.
class FakeEngine {
 public:
  FakeEngine() {
    int to_plugin[2], from_plugin[2], err[2];
    REQUIRE(pipe(to_plugin) == 0);
    REQUIRE(pipe(from_plugin) == 0);
    REQUIRE(pipe(err) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close(to_plugin[1]);
      close(from_plugin[0]);
      close(err[0]);
      dup2(err[1], 2);
      static const CommandRegistry reg = test_registry();
      ServerOptions opts;
      opts.stream_window = 4;
      PluginServer server(reg, std::make_unique<JsonCodec>(), to_plugin[0], from_plugin[1], opts);
      server.serve();
    }
    close(to_plugin[0]);
    close(from_plugin[1]);
    close(err[1]);
    out_ = to_plugin[1];
    in_ = from_plugin[0];
    err_ = err[0];
  }
  ~FakeEngine() {
    if (out_ >= 0) close(out_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(in_);
    close(err_);
  }

  void send(const std::string& json) {
    std::string line = json + "\n";
    REQUIRE(write(out_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  }
  void send_raw(const std::string& bytes) { REQUIRE(write(out_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
  void close_input() { close(out_); out_ = -1; }

  /// The next message from the plugin, or null after `timeout`.
  Wire recv(std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto m = codec_.next()) return *m;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      pollfd p{in_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return nullptr;
      char buf[4096];
      ssize_t n = read(in_, buf, sizeof buf);
      if (n <= 0) return nullptr;
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (!encoding_seen_) {
        encoding_ += std::string(chunk.substr(0, std::min<size_t>(chunk.size(), 5 - encoding_.size())));
        chunk.remove_prefix(std::min<size_t>(chunk.size(), 5));
        if (encoding_.size() == 5) encoding_seen_ = true;
      }
      codec_.feed(chunk);
    }
  }

  void handshake(const std::string& version = "0.115.1") {
    send(R"({"Hello":{"protocol":"nu-plugin","version":")" + version + R"(","features":[{"name":"LocalSocket"}]}})");
    Wire hello = recv();
    REQUIRE(encoding_ == std::string("\x04json"));
    REQUIRE(hello.contains("Hello"));
    CHECK(hello["Hello"]["version"] == version);
  }

  void run(int id, const std::string& name, const std::string& input = "\"Empty\"") {
    send(R"({"Call":[)" + std::to_string(id) + R"(,{"Run":{"name":")" + name +
         R"(","call":{"head":{"start":100,"end":104},"positional":[],"named":[]},"input":)" + input + "}}]}");
  }

  /// Exit code once the plugin has exited, or -1 if it is still running after `timeout`.
  int exit_code(std::chrono::milliseconds timeout = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return prov::ExitStatus::from_wait_status(status).exit_code();
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  std::string stderr_text() {
    std::string s;
    char buf[4096];
    pollfd p{err_, POLLIN, 0};
    while (poll(&p, 1, 200) > 0) {
      ssize_t n = read(err_, buf, sizeof buf);
      if (n <= 0) break;
      s.append(buf, static_cast<size_t>(n));
    }
    return s;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_ = -1, in_ = -1, err_ = -1;
  JsonCodec codec_;
  std::string encoding_;
  bool encoding_seen_ = false;
};

}  // namespace

TEST_CASE("handshake: encoding first, then Hello with the engine's version", "[server]") {
  FakeEngine e;
  e.handshake("0.108.0");
  e.send(R"({"Call":[0,"Metadata"]})");
  Wire m = e.recv();
  CHECK(m["CallResponse"][0] == 0);
  CHECK(m["CallResponse"][1]["Metadata"]["version"].is_string());
  e.send(R"({"Call":[1,"Signature"]})");
  Wire s = e.recv();
  REQUIRE(s["CallResponse"][1]["Signature"].is_array());
  CHECK(s["CallResponse"][1]["Signature"].size() == test_registry().all().size());
  CHECK(s["CallResponse"][1]["Signature"][0]["sig"]["name"] == "fast");
}

TEST_CASE("an engine outside the supported range is refused with a message", "[server]") {
  for (const char* v : {"0.101.0", "0.116.0", "1.0.0"}) {
    INFO(v);
    FakeEngine e;
    e.send(std::string(R"({"Hello":{"protocol":"nu-plugin","version":")") + v + R"(","features":[]}})");
    CHECK(e.exit_code() == 1);
    std::string err = e.stderr_text();
    CHECK_THAT(err, Catch::Contains("unsupported Nushell") && Catch::Contains("0.107.0 through 0.115.x"));
  }
}

TEST_CASE("a slow call does not block a fast one", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(1, "slow");
  e.run(2, "fast");
  Wire first = e.recv();
  CHECK(first["CallResponse"][0] == 2);
  CHECK(first["CallResponse"][1]["PipelineData"]["Value"][0]["Int"]["val"] == 7);
  // Interrupt ends the slow one early.
  e.send(R"({"Signal":"Interrupt"})");
  Wire second = e.recv();
  CHECK(second["CallResponse"][0] == 1);
  CHECK(second["CallResponse"][1]["PipelineData"]["Value"][0]["String"]["val"] == "interrupted");
}

TEST_CASE("engine calls carry the call's id as context and get their answer", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(5, "cwd");
  Wire call = e.recv();
  REQUIRE(call.contains("EngineCall"));
  CHECK(call["EngineCall"]["context"] == 5);
  CHECK(call["EngineCall"]["call"] == "GetCurrentDir");
  int id = call["EngineCall"]["id"];
  e.send(R"({"EngineCallResponse":[)" + std::to_string(id) +
         R"(,{"PipelineData":{"Value":[{"String":{"val":"/tmp/here","span":{"start":0,"end":0}}},null]}}]})");
  Wire r = e.recv();
  CHECK(r["CallResponse"][0] == 5);
  CHECK(r["CallResponse"][1]["PipelineData"]["Value"][0]["String"]["val"] == "/tmp/here");
}

TEST_CASE("output streams wait for Ack and stop at once on Drop", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(3, "forever");
  Wire header = e.recv();
  REQUIRE(header["CallResponse"][1]["PipelineData"].contains("ListStream"));
  int sid = header["CallResponse"][1]["PipelineData"]["ListStream"]["id"];
  // Window of 4: four items arrive, then nothing until an Ack.
  for (int i = 0; i < 4; ++i) {
    Wire d = e.recv();
    REQUIRE(d.contains("Data"));
    CHECK(d["Data"][1]["List"]["Int"]["val"] == i);
  }
  CHECK(e.recv(300ms).is_null());
  e.send(R"({"Ack":)" + std::to_string(sid) + "}");
  Wire fifth = e.recv();
  CHECK(fifth["Data"][1]["List"]["Int"]["val"] == 4);
  e.send(R"({"Drop":)" + std::to_string(sid) + "}");
  Wire end = e.recv();
  CHECK(end == Wire{{"End", sid}});
  // The producer was not pulled beyond what was sent.
  e.run(4, "pulled");
  Wire pulled = e.recv();
  CHECK(pulled["CallResponse"][1]["PipelineData"]["Value"][0]["Int"]["val"] == 5);
}

TEST_CASE("list stream input is acknowledged item by item and answered with Drop at End", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(9, "sum", R"({"ListStream":{"id":0,"span":{"start":1,"end":2},"metadata":null}})");
  for (int i = 1; i <= 3; ++i) {
    e.send(R"({"Data":[0,{"List":{"Int":{"val":)" + std::to_string(i) + R"(,"span":{"start":0,"end":0}}}}]})");
    CHECK(e.recv() == Wire{{"Ack", 0}});
  }
  e.send(R"({"End":0})");
  CHECK(e.recv() == Wire{{"Drop", 0}});
  Wire r = e.recv();
  CHECK(r["CallResponse"][1]["PipelineData"]["Value"][0]["Int"]["val"] == 6);
}

TEST_CASE("byte stream input is collected into a string", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(4, "text", R"({"ByteStream":{"id":7,"span":{"start":1,"end":2},"type":"String","metadata":null}})");
  e.send(R"({"Data":[7,{"Raw":{"Ok":[104,105]}}]})");
  CHECK(e.recv() == Wire{{"Ack", 7}});
  e.send(R"({"Data":[7,{"Raw":{"Ok":[33]}}]})");
  CHECK(e.recv() == Wire{{"Ack", 7}});
  e.send(R"({"End":7})");
  CHECK(e.recv() == Wire{{"Drop", 7}});
  Wire r = e.recv();
  CHECK(r["CallResponse"][1]["PipelineData"]["Value"][0]["String"]["val"] == "string:hi!");
}

TEST_CASE("GcDisabled is sent as an Option message", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(6, "gc");
  CHECK(e.recv() == Wire::parse(R"({"Option":{"GcDisabled":true}})"));
  Wire r = e.recv();
  CHECK(r["CallResponse"][0] == 6);
}

TEST_CASE("GetEnvVar, GetPluginConfig and GetEnvVars: values and empty answers", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(8, "lookup");
  Wire c1 = e.recv();
  CHECK(c1["EngineCall"]["call"] == Wire{{"GetEnvVar", "HOME"}});
  CHECK(c1["EngineCall"]["context"] == 8);
  e.send(R"({"EngineCallResponse":[)" + c1["EngineCall"]["id"].dump() +
         R"(,{"PipelineData":{"Value":[{"String":{"val":"/home/ada","span":{"start":0,"end":0}}},null]}}]})");
  Wire c2 = e.recv();
  CHECK(c2["EngineCall"]["call"] == "GetPluginConfig");
  e.send(R"({"EngineCallResponse":[)" + c2["EngineCall"]["id"].dump() + R"(,{"PipelineData":"Empty"}]})");
  Wire c3 = e.recv();
  CHECK(c3["EngineCall"]["call"] == "GetEnvVars");
  CHECK(c3["EngineCall"]["id"] != c2["EngineCall"]["id"]);
  e.send(R"({"EngineCallResponse":[)" + c3["EngineCall"]["id"].dump() +
         R"(,{"ValueMap":{"A":{"String":{"val":"1","span":{"start":0,"end":0}}},"B":{"Int":{"val":2,"span":{"start":0,"end":0}}}}}]})");
  Wire r = e.recv();
  const Wire& rec = r["CallResponse"][1]["PipelineData"]["Value"][0]["Record"]["val"];
  CHECK(rec["home"]["String"]["val"] == "/home/ada");
  CHECK(rec["config"]["String"]["val"] == "none");
  CHECK(rec["count"]["Int"]["val"] == 2);
}

TEST_CASE("EvalClosure: the closure, its argument and input go out; a list stream answer is collected", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(2, "closure");
  Wire c = e.recv();
  const Wire& call = c["EngineCall"]["call"]["EvalClosure"];
  CHECK(call["closure"] == Wire::parse(R"({"item":{"block_id":72,"captures":[]},"span":{"start":780,"end":812}})"));
  CHECK(call["positional"][0]["Int"]["val"] == 7);
  CHECK(call["input"]["Value"][0]["Int"]["val"] == 7);
  CHECK(call["redirect_stdout"] == true);
  // The answer opens a stream; its items follow at once, before the plugin has read the answer.
  e.send(R"({"EngineCallResponse":[)" + c["EngineCall"]["id"].dump() +
         R"(,{"PipelineData":{"ListStream":{"id":5,"span":{"start":0,"end":0},"metadata":null}}}]})");
  e.send(R"({"Data":[5,{"List":{"Int":{"val":1,"span":{"start":0,"end":0}}}}]})");
  e.send(R"({"Data":[5,{"List":{"Int":{"val":2,"span":{"start":0,"end":0}}}}]})");
  e.send(R"({"End":5})");
  CHECK(e.recv() == Wire{{"Ack", 5}});
  CHECK(e.recv() == Wire{{"Ack", 5}});
  CHECK(e.recv() == Wire{{"Drop", 5}});
  Wire r = e.recv();
  CHECK(r["CallResponse"][1]["PipelineData"]["Value"][0]["Int"]["val"] == 2);
}

TEST_CASE("an engine call answered with an error fails the command with that error", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(3, "cwd");
  Wire c = e.recv();
  e.send(R"({"EngineCallResponse":[)" + c["EngineCall"]["id"].dump() +
         R"(,{"Error":{"msg":"no such thing","labels":[],"code":null,"url":null,"help":null,"inner":[]}}]})");
  Wire r = e.recv();
  CHECK(r["CallResponse"][1]["Error"]["msg"] == "no such thing");
}

TEST_CASE("errors are labeled error responses", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(2, "fail");
  Wire r = e.recv();
  const Wire& err = r["CallResponse"][1]["Error"];
  CHECK(err["msg"] == "it failed");
  CHECK(err["code"] == "test::fail");
  CHECK(err["labels"][0]["span"]["start"] == 100);
  e.run(3, "nonexistent");
  Wire u = e.recv();
  CHECK(u["CallResponse"][1]["Error"]["code"] == "provisioning::plugin::unknown_command");
  e.send(R"({"Call":[4,{"CustomValueOp":[{"item":{"name":"x","data":[]},"span":{"start":0,"end":0}},"ToBaseValue"]}]})");
  Wire c = e.recv();
  CHECK(c["CallResponse"][1]["Error"]["code"] == "provisioning::plugin::unsupported_call");
}

TEST_CASE("Goodbye lets in-flight calls finish, then the plugin exits", "[server]") {
  FakeEngine e;
  e.handshake();
  e.run(1, "naps");
  e.send(R"("Goodbye")");
  Wire r = e.recv();
  CHECK(r["CallResponse"][1]["PipelineData"]["Value"][0]["String"]["val"] == "done");
  CHECK(e.exit_code() == 0);
}

TEST_CASE("garbage ends the plugin with one line on stderr and a non-zero exit", "[server]") {
  struct Case { const char* name; std::string bytes; bool handshake; };
  std::vector<Case> cases = {
      {"not json", "this is not json\n", false},
      {"message before Hello", R"({"Call":[0,"Metadata"]})" "\n", false},
      {"unknown message", R"({"Bogus":1})" "\n", true},
      {"wrong type", R"({"Call":["zero","Metadata"]})" "\n", true},
      {"unknown value variant",
       R"({"Call":[0,{"Run":{"name":"fast","call":{"head":{"start":0,"end":0},"positional":[{"Weird":{"span":{"start":0,"end":0}}}],"named":[]},"input":"Empty"}}]})" "\n",
       true},
      {"truncated frame", R"({"Call":[0,"Meta)", true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    FakeEngine e;
    if (c.handshake) e.handshake();
    e.send_raw(c.bytes);
    e.close_input();
    CHECK(e.exit_code() == 1);
    std::string err = e.stderr_text();
    CHECK_THAT(err, Catch::StartsWith("nu_plugin_provisioning: protocol error"));
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
}

TEST_CASE("input closed with no call running ends cleanly", "[server]") {
  FakeEngine e;
  e.handshake();
  e.close_input();
  CHECK(e.exit_code() == 0);
}

namespace {
std::string completion_call(int id, const std::string& name, const std::string& arg_type,
                            const std::string& args = "[]") {
  return R"({"Call":[)" + std::to_string(id) + R"(,{"GetCompletion":{"name":")" + name + R"(","arg_type":)" + arg_type +
         R"(,"call":{"call":{"decl_id":9,"head":{"start":10,"end":20},"arguments":)" + args +
         R"(,"parser_info":{}},"strip":false,"pos":40}}}]})";
}
}  // namespace

TEST_CASE("GetCompletion runs on a worker that may make engine calls, and answers CompletionItems",
          "[server][completion]") {
  FakeEngine e;
  e.handshake();
  e.send(completion_call(3, "completing", R"({"Positional":0})",
                         R"([{"Named":[{"item":"mode","span":{"start":21,"end":27}},null,)"
                         R"({"expr":{"String":"fast"},"span":{"start":28,"end":32},"span_id":1,"ty":"String"}]}])"));
  Wire call = e.recv();
  REQUIRE(call.contains("EngineCall"));
  CHECK(call["EngineCall"]["context"] == 3);
  CHECK(call["EngineCall"]["call"] == "GetCurrentDir");
  // The protocol thread stays free while the completion waits: a Run is answered meanwhile.
  e.run(4, "fast");
  Wire fast = e.recv();
  CHECK(fast["CallResponse"][0] == 4);
  int id = call["EngineCall"]["id"];
  e.send(R"({"EngineCallResponse":[)" + std::to_string(id) +
         R"(,{"PipelineData":{"Value":[{"String":{"val":"/tmp/here","span":{"start":0,"end":0}}},null]}}]})");
  Wire r = e.recv();
  CHECK(r == Wire::parse(R"({"CallResponse":[3,{"CompletionItems":[
      {"value":"/tmp/here","description":"cwd","append_whitespace":true},
      {"value":"fast","append_whitespace":true}]}]})"));
}

TEST_CASE("GetCompletion: null for no opinion and unknown commands, errors for failures and malformed calls",
          "[server][completion]") {
  FakeEngine e;
  e.handshake("0.109.1");
  e.send(completion_call(1, "completing", R"({"Flag":"mode"})"));
  CHECK(e.recv() == Wire::parse(R"({"CallResponse":[1,{"CompletionItems":null}]})"));
  e.send(completion_call(2, "no such command", R"({"Positional":0})"));
  CHECK(e.recv() == Wire::parse(R"({"CallResponse":[2,{"CompletionItems":null}]})"));
  e.send(completion_call(3, "completing", R"({"Positional":0})",
                         R"([{"Named":[{"item":"broken","span":{"start":21,"end":27}},null,null]}])"));
  Wire failed = e.recv();
  CHECK(failed["CallResponse"][0] == 3);
  CHECK(failed["CallResponse"][1]["Error"]["msg"] == "cannot complete");
  e.send(R"({"Call":[5,{"GetCompletion":{"name":"completing","arg_type":{"Sideways":1},"call":{}}}]})");
  Wire malformed = e.recv();
  CHECK(malformed["CallResponse"][0] == 5);
  CHECK(malformed["CallResponse"][1]["Error"]["code"] == "provisioning::plugin::malformed_call");
  // The plugin carries on.
  e.run(6, "fast");
  CHECK(e.recv()["CallResponse"][0] == 6);
}

TEST_CASE("GetCompletion before 0.115: no engine calls, the directory Nushell started the plugin in",
          "[server][completion]") {
  // 0.109 to 0.114 answer engine calls made during a completion with an error.
  const char* old = std::getenv("PWD");
  std::string saved = old ? old : "";
  setenv("PWD", "/tmp/started-here", 1);
  FakeEngine e;
  if (old) setenv("PWD", saved.c_str(), 1);
  else unsetenv("PWD");
  e.handshake("0.114.1");
  e.send(completion_call(2, "completing", R"({"Positional":0})"));
  Wire r = e.recv();
  CHECK(r == Wire::parse(R"({"CallResponse":[2,{"CompletionItems":[
      {"value":"/tmp/started-here","description":"cwd","append_whitespace":true},
      {"value":"none","append_whitespace":true}]}]})"));
}
