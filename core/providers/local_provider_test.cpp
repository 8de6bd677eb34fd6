#include "core/providers/local_provider.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/events/event.hpp"
#include "core/providers/local_supervisor.hpp"
#include "core/providers/provider_contract_test.hpp"
#include "core/providers/server_identity.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::provider_error_code;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// A program the build put beside the tests (the plugin, prov_loopback_server).
std::string built(const std::string& name) { return std::string(PROV_BIN_DIR) + "/" + name; }

/// A workspace with its own state directory; every server still there at the end is removed.
struct Workspace {
  TempDir dir{"prov-local"};
  /// The core's supervisor binary; the plugin's own `--supervise` has a test of its own.
  std::string supervisor = built("prov_local_supervisor");
  std::string state() const { return dir / ".provisioning"; }

  std::unique_ptr<LocalProvider> provider(Datum config = Datum(), std::optional<Environment> env = std::nullopt) const {
    ProviderContext ctx;
    ctx.workspace = dir.path();
    ctx.state_dir = state();
    ctx.config = std::move(config);
    ctx.env = std::move(env);
    return std::make_unique<LocalProvider>(ctx, supervisor);
  }

  ~Workspace() {
    try {
      auto p = provider(Datum(DatumRecord{{"kill_grace", Datum("200ms")}}));
      for (const Server& s : p->list()) p->remove(s.id);
    } catch (...) {
    }
  }
};

ServerSpec spec_of(const std::string& name, std::vector<std::string> command, std::vector<int64_t> ports = {}) {
  ServerSpec s;
  s.name = name;
  s.command = std::move(command);
  s.ports = std::move(ports);
  return s;
}

/// A loopback port nobody listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Everything a server on 127.0.0.1:port says before it closes the connection.
std::string ask(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

template <typename Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return p();
}

std::string slurp(const std::string& path) {
  auto c = read_file_if_exists(path);
  return c ? c->data : std::string();
}

int64_t pid_of(const Server& s) {
  for (const auto& [k, v] : s.fields)
    if (k == "pid" && std::holds_alternative<int64_t>(v.v)) return std::get<int64_t>(v.v);
  return 0;
}

const Datum& field(const Server& s, const std::string& key) {
  for (const auto& kv : s.fields)
    if (kv.first == key) return kv.second;
  static const Datum none;
  FAIL("no field " << key);
  return none;
}

std::string log_path(const Server& s, const char* which) { return field(s, "logs").find(which)->str(); }

/// True when no process has this pid any more (gone and reaped).
bool gone(int64_t pid) {
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH && !fs::exists("/proc/" + std::to_string(pid));
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("the local provider keeps the provider contract", "[local][provider]") {
  Workspace ws;
  prov::testing::check_provider_contract([&] { return ws.provider(); }, spec_of("contract", {"sleep", "30"}));
}

TEST_CASE("the plugin binary supervises local servers (nu_plugin_provisioning --supervise)", "[local][provider]") {
  Workspace ws;
  ws.supervisor = built("nu_plugin_provisioning");
  REQUIRE(fs::exists(ws.supervisor));
  prov::testing::check_provider_contract([&] { return ws.provider(); }, spec_of("plugin", {"sleep", "30"}));
}

TEST_CASE("a local server listens, answers, and is gone once deleted", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const int port = free_port();
  const Server s =
      p->create(spec_of("web", {built("prov_loopback_server"), std::to_string(port)}, {port}));
  const int64_t pid = pid_of(s);
  REQUIRE(pid > 0);
  CHECK(s.state == "running");
  CHECK(s.provider == "local");
  CHECK(s.id.rfind("web-", 0) == 0);
  std::vector<std::string> keys;
  for (const auto& kv : s.fields) keys.push_back(kv.first);
  CHECK(keys == std::vector<std::string>{"plan", "labels", "pid", "started", "uptime", "command", "logs", "ports",
                                         "exit_code", "env", "cwd", "restart", "restarts"});
  CHECK(std::holds_alternative<DateTime>(field(s, "started").v));
  CHECK(std::holds_alternative<Duration>(field(s, "uptime").v));
  CHECK(field(s, "ports") == Datum(DatumList{Datum(int64_t{port})}));
  CHECK(field(s, "exit_code").is_null());
  CHECK(log_path(s, "stdout") == ws.state() + "/servers/local/" + s.id + "/stdout.log");

  // Ready on return: it answers at once.
  CHECK(ask(port) == "pong " + std::to_string(pid) + "\n");
  // Detached: a session and a process group of its own, not ours.
  const auto st = read_proc_stat(static_cast<pid_t>(pid));
  REQUIRE(st);
  CHECK(st->pgid == pid);
  CHECK(st->session != ::getsid(0));

  const Server removed = p->remove(s.id);
  CHECK(removed.state == "deleted");
  CHECK(removed.id == s.id);
  CHECK(field(removed, "exit_code") == Datum(int64_t{128 + SIGTERM}));
  CHECK(gone(pid));
  CHECK(ask(port).empty());
  CHECK_FALSE(fs::exists(ws.state() + "/servers/local/" + s.id));
}

TEST_CASE("a local server outlives its provider object and is found by the next one", "[local]") {
  Workspace ws;
  Server s;
  {
    auto p = ws.provider();
    s = p->create(spec_of("keeper", {"sleep", "30"}));
  }
  auto again = ws.provider();
  const Server found = again->get(s.id);
  CHECK(found.state == "running");
  CHECK(pid_of(found) == pid_of(s));
  CHECK(found.created == s.created);
  REQUIRE(again->list().size() == 1);
  // Its unique name finds it too.
  CHECK(again->get("keeper").id == s.id);
  again->remove(s.id);
  CHECK(gone(pid_of(s)));
}

TEST_CASE("a recorded pid that now belongs to another process reads as exited", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const std::string dir = ws.dir.mkdir(".provisioning/servers/local/ghost-abc123");
  const pid_t self = ::getpid();
  const auto st = read_proc_stat(self);
  REQUIRE(st);
  write_file_atomic(dir + "/server.json",
                    encode_json(Datum(DatumRecord{{"id", Datum("ghost-abc123")},
                                                  {"name", Datum("ghost")},
                                                  {"created", Datum(now_utc())},
                                                  {"command", Datum(DatumList{Datum("sleep")})},
                                                  {"ports", Datum(DatumList{})}})),
                    0600);
  // Our own pid, but a start time that is not ours: the server it named is long gone.
  write_file_atomic(dir + "/process.json",
                    encode_json(Datum(DatumRecord{{"pid", Datum(int64_t{self})},
                                                  {"start_ticks", Datum(static_cast<int64_t>(st->start_ticks + 1))},
                                                  {"started", Datum(now_utc())},
                                                  {"started_ns", Datum(int64_t{1})}})),
                    0600);
  const Server s = p->get("ghost-abc123");
  CHECK(s.state == "exited");
  CHECK(pid_of(s) == self);
  CHECK(field(s, "uptime").is_null());
  CHECK(field(s, "exit_code").is_null());
  // Deleting it signals nobody (we are still here) and removes the record.
  CHECK(p->remove("ghost").state == "deleted");
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("a local server's exit code is recorded", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const Server s = p->create(spec_of("quits", {"sh", "-c", "exit 3"}));
  Server now;
  REQUIRE(eventually([&] {
    now = p->get(s.id);
    return !field(now, "exit_code").is_null();
  }));
  CHECK(now.state == "exited");
  CHECK(field(now, "exit_code") == Datum(int64_t{3}));
  CHECK(field(now, "uptime").is_null());
  CHECK(gone(pid_of(s)));
  CHECK(p->remove(s.id).state == "deleted");
}

TEST_CASE("deleting a local server that ignores SIGTERM kills it after the grace period", "[local]") {
  Workspace ws;
  auto p = ws.provider(Datum(DatumRecord{{"kill_grace", Datum("300ms")}}));
  const Server s =
      p->create(spec_of("stubborn", {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"}));
  REQUIRE(eventually([&] { return slurp(log_path(s, "stdout")) == "ready\n"; }));
  const auto start = Clock::now();
  const Server removed = p->remove(s.id);
  const auto took = Clock::now() - start;
  CHECK(took >= std::chrono::milliseconds(300));
  CHECK(took < std::chrono::milliseconds(3000));
  CHECK(field(removed, "exit_code") == Datum(int64_t{128 + SIGKILL}));
  CHECK(gone(pid_of(s)));
}

TEST_CASE("a local server's folders are 0700 and its files 0600", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const mode_t old = ::umask(022);
  const Server s = p->create(spec_of("private", {"sleep", "30"}));
  ::umask(old);
  const std::string dir = ws.state() + "/servers/local/" + s.id;
  CHECK(mode_of(ws.state() + "/servers") == 0700);
  CHECK(mode_of(ws.state() + "/servers/local") == 0700);
  CHECK(mode_of(dir) == 0700);
  for (const char* f : {"server.json", "process.json", "stdout.log", "stderr.log", "supervisor.log"}) {
    INFO(f);
    CHECK(mode_of(dir + "/" + f) == 0600);
  }
  p->remove(s.id);
}

TEST_CASE("a local server's argv reaches it literally, never through a shell", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const std::string arg = "a;b $(x) 'q' \"d\" `y` > z";
  const Server s = p->create(spec_of("echo", {"/bin/echo", arg}));
  REQUIRE(eventually([&] { return p->get(s.id).state == "exited"; }));
  CHECK(slurp(log_path(s, "stdout")) == arg + "\n");
  CHECK_FALSE(fs::exists(ws.dir / "z"));
  p->remove(s.id);
}

TEST_CASE("a local server gets its env over the context's and runs in its cwd", "[local]") {
  Workspace ws;
  ws.dir.mkdir("sub dir");
  auto p = ws.provider(Datum(), Environment{{"PATH", std::getenv("PATH")}, {"FROM_CTX", "ctx"}, {"BOTH", "ctx"}});
  ServerSpec spec = spec_of("env", {"sh", "-c", "echo \"$FROM_CTX $FROM_SPEC $BOTH $(pwd)\"; echo oops >&2"});
  spec.env = {{"FROM_SPEC", "spec"}, {"BOTH", "spec"}};
  spec.cwd = "sub dir";
  const Server s = p->create(spec);
  REQUIRE(eventually([&] { return !field(p->get(s.id), "exit_code").is_null(); }));
  CHECK(slurp(log_path(s, "stdout")) == "ctx spec spec " + ws.dir.path() + "/sub dir\n");
  CHECK(slurp(log_path(s, "stderr")) == "oops\n");
  p->remove(s.id);
}

TEST_CASE("the local provider refuses specs it cannot run", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  CHECK(provider_error_code([&] { p->create(spec_of("nothing", {})); }) == "provisioning::provider::invalid_spec");
  ServerSpec nowhere = spec_of("nowhere", {"sleep", "1"});
  nowhere.cwd = "missing";
  CHECK(provider_error_code([&] { p->create(nowhere); }) == "provisioning::provider::invalid_spec");
  try {
    p->create(spec_of("ghost", {"/definitely/not/a/program"}));
    FAIL("created");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::provider::failed");
    CHECK(std::string(e.what()).find("/definitely/not/a/program") != std::string::npos);
  }
  CHECK(p->list().empty());
  CHECK(fs::is_empty(ws.state() + "/servers/local"));
}

TEST_CASE("a local server that ends before its port is ready fails with its status and stderr", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const int port = free_port();
  try {
    p->create(spec_of("crash", {"sh", "-c", "echo boom >&2; exit 4"}, {port}));
    FAIL("created");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::provider::failed");
    const std::string msg = e.what();
    CHECK(msg.find("exited with status 4") != std::string::npos);
    CHECK(msg.find("boom") != std::string::npos);
  }
  CHECK(p->list().empty());
}

TEST_CASE("a local server whose port never opens times out and is stopped", "[local]") {
  Workspace ws;
  auto p = ws.provider(Datum(DatumRecord{{"ready_timeout", Datum("200ms")}, {"kill_grace", Datum(Duration{100'000'000})}}));
  const int port = free_port();
  const auto start = Clock::now();
  CHECK(provider_error_code([&] { p->create(spec_of("deaf", {"sleep", "30"}, {port})); }) ==
        "provisioning::provider::timeout");
  CHECK(Clock::now() - start < std::chrono::milliseconds(3000));
  CHECK(p->list().empty());
  CHECK(fs::is_empty(ws.state() + "/servers/local"));
}

TEST_CASE("the local provider reads its durations from the configuration", "[local]") {
  Workspace ws;
  CHECK_NOTHROW(ws.provider(Datum(DatumRecord{{"ready_timeout", Datum("1m")}})));
  try {
    ws.provider(Datum(DatumRecord{{"kill_grace", Datum(5)}}));
    FAIL("accepted");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::bad_value");
    CHECK(std::string(e.what()).find("kill_grace") != std::string::npos);
  }
  auto bad = std::make_unique<LocalProvider>(ProviderContext{}, "/definitely/not/the/plugin");
  CHECK_FALSE(bad->test_connectivity().ok);
  CHECK(ws.provider()->test_connectivity().ok);
}

TEST_CASE("a cancelled create stops what it started", "[local]") {
  Workspace ws;
  CancelToken cancel;
  cancel.cancel();
  ProviderContext ctx;
  ctx.workspace = ws.dir.path();
  ctx.state_dir = ws.state();
  ctx.cancel = &cancel;
  LocalProvider p(ctx, ws.supervisor);
  CHECK(provider_error_code([&] { p.create(spec_of("cancelled", {"sleep", "30"})); }) ==
        "provisioning::provider::cancelled");
  CHECK(p.list().empty());
  CHECK(fs::is_empty(ws.state() + "/servers/local"));
}

TEST_CASE("the local provider without a state directory has no servers and creates none", "[local]") {
  LocalProvider p(ProviderContext{}, built("prov_local_supervisor"));
  CHECK(p.list().empty());
  CHECK(provider_error_code([&] { p.get("x"); }) == "provisioning::provider::not_found");
  CHECK(provider_error_code([&] { p.create(spec_of("x", {"sleep", "1"})); }) == "provisioning::provider::failed");
}

namespace {

/// A socket of this process listening on a fresh loopback port; the port.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
};

}  // namespace

TEST_CASE("a local server whose port is taken is refused before anything starts, naming the port", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  Listener taken;
  try {
    p->create(spec_of("late", {"sleep", "30"}, {taken.port}));
    FAIL("created");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::server::port_in_use");
    const std::string msg = e.what();
    CHECK(msg.find("port " + std::to_string(taken.port)) != std::string::npos);
    CHECK(msg.find("pid " + std::to_string(::getpid())) != std::string::npos);  // who holds it
  }
  CHECK(p->list().empty());
  CHECK_FALSE(fs::exists(ws.state() + "/servers/local"));  // nothing was made
}

TEST_CASE("a local server's record holds its spec: plan, labels, env, cwd, restart", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  ServerSpec spec = spec_of("recorded", {"sleep", "30"});
  spec.plan = "small";
  spec.labels = {{"tier", Datum("web")}};
  spec.env = {{"MODE", "test"}};
  spec.restart = RestartPolicy::from_datum(Datum("on-failure"), "spec");
  const Server s = p->create(spec);
  CHECK(field(s, "plan") == Datum("small"));
  CHECK(field(s, "labels") == Datum(spec.labels));
  CHECK(field(s, "env") == Datum(DatumRecord{{"MODE", Datum("test")}}));
  CHECK(field(s, "restart") == spec.restart->to_datum());
  CHECK(field(s, "restarts") == Datum(int64_t{0}));
  CHECK(spec_changes(spec, p->get(s.id), p->spec_fields()).empty());
  p->remove(s.id);
}

TEST_CASE("a stopped local server stays exited; start and restart run it again", "[local]") {
  Workspace ws;
  auto p = ws.provider(Datum(DatumRecord{{"kill_grace", Datum("1s")}}));
  ServerSpec spec = spec_of("cycle", {"sleep", "30"});
  spec.restart = RestartPolicy::from_datum(Datum("always"), "spec");  // a stop is never restarted
  const Server s = p->create(spec);
  const int64_t first = pid_of(s);
  REQUIRE(first > 0);
  const Server stopped = p->stop(s.id);
  CHECK(stopped.state == server_state::exited);
  CHECK(gone(first));
  CHECK(p->get(s.id).state == server_state::exited);
  CHECK(pid_of(p->get(s.id)) == first);  // nothing started it again
  const Server started = p->start(s.id);
  CHECK(started.state == server_state::running);
  CHECK(pid_of(started) != first);
  CHECK(p->start(s.id).state == server_state::running);  // already running: as it is
  CHECK(pid_of(p->get(s.id)) == pid_of(started));
  const Server restarted = p->restart(s.id);
  CHECK(restarted.state == server_state::running);
  CHECK(pid_of(restarted) != pid_of(started));
  CHECK(gone(pid_of(started)));
  p->remove(s.id);
  CHECK(gone(pid_of(restarted)));
}

TEST_CASE("the supervisor restarts a failing local server up to the policy's limit", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  ServerSpec spec = spec_of("crashy", {"sh", "-c", "echo run; exit 3"});
  spec.restart = RestartPolicy::from_datum(
      Datum(DatumRecord{{"policy", Datum("on-failure")}, {"max", Datum(int64_t{2})}, {"backoff", Datum("10ms")}}),
      "spec");
  const Server s = p->create(spec);
  const Provider::LogFiles logs = p->logs(s.id);
  // The supervisor ends once no restart is left.
  REQUIRE(eventually([&] { return logs.writer == 0 || !process_alive(logs.writer, logs.writer_start); },
                     std::chrono::milliseconds(10000)));
  const Server got = p->get(s.id);
  CHECK(got.state == server_state::exited);
  CHECK(field(got, "restarts") == Datum(int64_t{2}));
  CHECK(field(got, "exit_code") == Datum(int64_t{3}));
  CHECK(slurp(logs.stdout_path) == "run\nrun\nrun\n");
  p->remove(s.id);
}

TEST_CASE("a local server that exits 0 is not restarted on-failure", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  ServerSpec spec = spec_of("fine", {"true"});
  spec.restart = RestartPolicy::from_datum(Datum("on-failure"), "spec");
  const Server s = p->create(spec);
  const Provider::LogFiles logs = p->logs(s.id);
  REQUIRE(eventually([&] { return logs.writer == 0 || !process_alive(logs.writer, logs.writer_start); }));
  CHECK(field(p->get(s.id), "restarts") == Datum(int64_t{0}));
  CHECK(p->get(s.id).state == server_state::exited);
  p->remove(s.id);
}

TEST_CASE("a local server that ends before it is ready reports its stdout too", "[local]") {
  Workspace ws;
  auto p = ws.provider();
  const int port = free_port();
  try {
    p->create(spec_of("says", {"sh", "-c", "echo listening soon; exit 2"}, {port}));
    FAIL("created");
  } catch (const ProviderError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("exited with status 2") != std::string::npos);
    CHECK(msg.find("listening soon") != std::string::npos);
  }
}
