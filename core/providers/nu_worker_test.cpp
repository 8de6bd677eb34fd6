#include "core/providers/nu_worker.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

namespace prov {
namespace {

using Clock = std::chrono::steady_clock;

/// The pinned Nushell: $PROV_NU, else the repository's node_modules copy.
std::string test_nu() {
  if (const char* nu = std::getenv("PROV_NU"); nu && *nu) return nu;
  return PROV_SOURCE_DIR "/node_modules/nushell/bin/nu";
}

std::string fixture(const std::string& name) { return PROV_SOURCE_DIR "/tests/providers/" + name; }

/// Stops every pooled worker when a test ends, so none outlives it.
struct PoolReset {
  ~PoolReset() { NuWorkerPool::shared().clear(); }
};

NuCall make_call(const std::string& method, Datum args = DatumRecord{},
                 Duration timeout = Duration{20'000'000'000}) {
  NuCall c;
  c.provider = "test";
  c.method = method;
  c.args = std::move(args);
  c.timeout = timeout;
  return c;
}

/// The ProviderError `f` throws; fails the test when it throws none.
template <typename F>
ProviderError provider_error_of(F f) {
  try {
    f();
  } catch (const ProviderError& e) {
    return e;
  }
  FAIL("no ProviderError thrown");
  throw std::logic_error("unreachable");
}

/// A module whose get-server echoes its id and tells which process answered.
const char* const kEchoModule = R"nu(
export def list-servers [] { [] }
export def get-server [id: string] { {id: $id, pid: $nu.pid, config: $env.PROVISIONING_PROVIDER.config?} }
export def create-server [spec: record] { $spec }
export def delete-server [id: string] { null }
)nu";

}  // namespace

TEST_CASE("a warm worker answers every call and restarts after being killed", "[nu_worker]") {
  PoolReset reset;
  TempDir dir("nu-worker");
  dir.write("echo/nulib/provider.nu", kEchoModule);
  auto worker = NuWorkerPool::shared().worker({test_nu(), dir / "echo"}, nullptr);
  CHECK(worker == NuWorkerPool::shared().worker({test_nu(), dir / "echo"}, nullptr));
  CHECK(worker->pid() == 0);  // nothing runs before the first call

  std::vector<int64_t> pids;
  for (int i = 0; i < 20; ++i) {
    const Datum v = worker->call(make_call("get-server", DatumRecord{{"id", "s" + std::to_string(i)}}));
    REQUIRE(v.is_record());
    CHECK(v.find("id")->str() == "s" + std::to_string(i));
    pids.push_back(std::get<int64_t>(v.find("pid")->v));
  }
  const pid_t first = worker->pid();
  REQUIRE(first > 0);
  CHECK(std::count(pids.begin(), pids.end(), int64_t{first}) == 20);

  ::kill(first, SIGKILL);
  for (int i = 0; i < 100 && ::kill(first, 0) == 0; ++i)  // until it is a zombie or gone
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const Datum v = worker->call(make_call("get-server", DatumRecord{{"id", "after"}}));
  CHECK(v.find("id")->str() == "after");
  CHECK(worker->pid() > 0);
  CHECK(worker->pid() != first);
  CHECK(std::get<int64_t>(v.find("pid")->v) == worker->pid());
}

TEST_CASE("a worker passes the context and data as values", "[nu_worker]") {
  PoolReset reset;
  TempDir dir("nu-worker");
  dir.write("echo/nulib/provider.nu", kEchoModule);
  auto worker = NuWorkerPool::shared().worker({test_nu(), dir / "echo"}, nullptr);
  NuCall c = make_call("create-server");
  const Datum spec = DatumRecord{{"name", "a;b $(touch x) `y` \"q\" 'r'\n--force"},
                                 {"at", DateTime{"2024-03-18T09:30:00+01:00"}},
                                 {"wait", Duration{1'500'000'000}},
                                 {"labels", DatumRecord{{"$odd", 1}}},
                                 {"list", DatumList{Datum(), 1, 2.5, true}}};
  c.args = DatumRecord{{"spec", spec}};
  CHECK(worker->call(c) == spec);

  c = make_call("get-server", DatumRecord{{"id", "x"}});
  c.context = DatumRecord{{"config", DatumRecord{{"timeout", Duration{5'000'000'000}}}}};
  const Datum v = worker->call(c);
  CHECK(*v.find("config") == DatumRecord{{"timeout", Duration{5'000'000'000}}});
}

TEST_CASE("a module's error is reported with its own message", "[nu_worker]") {
  PoolReset reset;
  auto worker = NuWorkerPool::shared().worker({test_nu(), fixture("raising")}, nullptr);
  NuCall c = make_call("get-server", DatumRecord{{"id", "x"}});
  c.provider = "raising";
  const ProviderError e = provider_error_of([&] { worker->call(c); });
  CHECK(e.code() == "provisioning::provider::failed");
  CHECK_THAT(e.what(), Catch::Contains("quota exceeded in region x"));
  CHECK_THAT(e.what(), Catch::Contains("raising"));
  const pid_t pid = worker->pid();
  CHECK(pid > 0);  // an error in the module leaves the worker running
  CHECK(provider_error_of([&] { worker->call(c); }).code() == "provisioning::provider::failed");
  CHECK(worker->pid() == pid);
}

TEST_CASE("a worker that does not answer in time is killed and restarted", "[nu_worker]") {
  PoolReset reset;
  auto worker = NuWorkerPool::shared().worker({test_nu(), fixture("hanging")}, nullptr);
  NuCall quick = make_call("get-server", DatumRecord{{"id", "quick"}});
  quick.provider = "hanging";
  REQUIRE(worker->call(quick).find("id")->str() == "quick");  // warm: the timeout counts the call only
  const pid_t hung = worker->pid();

  NuCall slow = make_call("get-server", DatumRecord{{"id", "slow"}}, Duration{1'000'000'000});
  slow.provider = "hanging";
  const auto t0 = Clock::now();
  const ProviderError e = provider_error_of([&] { worker->call(slow); });
  const auto took = Clock::now() - t0;
  CHECK(e.code() == "provisioning::provider::timeout");
  CHECK_THAT(e.what(), Catch::Contains("hanging") && Catch::Contains("1s"));
  CHECK(took >= std::chrono::milliseconds(990));
  CHECK(took < std::chrono::milliseconds(2500));
  CHECK(worker->pid() == 0);
  CHECK(::kill(hung, 0) != 0);  // killed and reaped: gone

  CHECK(worker->call(quick).find("id")->str() == "quick");
  CHECK(worker->pid() != hung);
}

TEST_CASE("a cancelled call stops the worker", "[nu_worker]") {
  PoolReset reset;
  auto worker = NuWorkerPool::shared().worker({test_nu(), fixture("hanging")}, nullptr);
  CancelToken cancel;
  NuCall slow = make_call("list-servers");
  slow.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.cancel();
  });
  const auto t0 = Clock::now();
  const ProviderError e = provider_error_of([&] { worker->call(slow); });
  canceller.join();
  CHECK(e.code() == "provisioning::provider::cancelled");
  CHECK(Clock::now() - t0 < std::chrono::seconds(3));
  CHECK(worker->pid() == 0);
}

TEST_CASE("garbage on the answer channel is a bad response", "[nu_worker]") {
  PoolReset reset;
  auto worker = NuWorkerPool::shared().worker({test_nu(), fixture("garbage")}, nullptr);
  NuCall c = make_call("list-servers");
  c.provider = "garbage";
  const ProviderError e = provider_error_of([&] { worker->call(c); });
  CHECK(e.code() == "provisioning::provider::bad_response");
  CHECK_THAT(e.what(), Catch::Contains("502 Bad Gateway") && Catch::Contains("garbage"));
  CHECK(worker->pid() == 0);  // out of step: stopped, restarted by the next call

  // What the module prints to stdout never reaches the protocol.
  NuCall get = make_call("get-server", DatumRecord{{"id", "x"}});
  CHECK(worker->call(get) == Datum("<html>502 Bad Gateway</html>"));
}

TEST_CASE("output of any size from the module does not disturb the protocol", "[nu_worker]") {
  PoolReset reset;
  auto worker = NuWorkerPool::shared().worker({test_nu(), fixture("noisy")}, nullptr);
  for (int i = 0; i < 3; ++i) {
    const Datum v = worker->call(make_call("get-server", DatumRecord{{"id", "n1"}}));
    REQUIRE(v.is_record());
    CHECK(v.find("id")->str() == "n1");
    CHECK(*v.find("created") == Datum(DateTime{"2024-03-18T09:30:00+01:00"}));
  }
}

TEST_CASE("a worker that cannot start says why", "[nu_worker]") {
  PoolReset reset;
  TempDir dir("nu-worker");
  NuCall c = make_call("list-servers");
  c.provider = "nowhere";
  auto missing = NuWorkerPool::shared().worker({test_nu(), dir / "nowhere"}, nullptr);
  ProviderError e = provider_error_of([&] { missing->call(c); });
  CHECK(e.code() == "provisioning::provider::failed");
  CHECK_THAT(e.what(), Catch::Contains("nulib/provider.nu"));

  dir.write("broken/nulib/provider.nu", "export def list-servers [ { oops\n");
  auto broken = NuWorkerPool::shared().worker({test_nu(), dir / "broken"}, nullptr);
  e = provider_error_of([&] { broken->call(c); });
  CHECK(e.code() == "provisioning::provider::failed");
  CHECK_THAT(e.what(), Catch::Contains("before answering list-servers"));
  CHECK(broken->pid() == 0);

  auto no_nu = NuWorkerPool::shared().worker({dir / "no-such-nu", fixture("noisy")}, nullptr);
  e = provider_error_of([&] { no_nu->call(c); });
  CHECK(e.code() == "provisioning::provider::failed");
  CHECK_THAT(e.what(), Catch::Contains("no-such-nu"));
}

TEST_CASE("calls from several threads share one worker", "[nu_worker]") {
  PoolReset reset;
  TempDir dir("nu-worker");
  dir.write("echo/nulib/provider.nu", kEchoModule);
  auto worker = NuWorkerPool::shared().worker({test_nu(), dir / "echo"}, nullptr);
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        const Datum v = worker->call(make_call("get-server", DatumRecord{{"id", id}}));
        if (v.is_record() && v.find("id")->str() == id) ++right;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(right == 40);
}

}  // namespace prov
