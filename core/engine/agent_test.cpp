#include "core/engine/agent.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/etcd/etcd_test_cluster.hpp"
#include "core/etcd/etcd_client.hpp"
#include "core/state/etcd_store.hpp"
#include "core/state/store_test_support.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {

/// Whether `agents` lists one named `name`, asked until `until`.
bool listed(const EtcdStore& store, const std::string& name, std::chrono::steady_clock::time_point until) {
  for (;;) {
    try {
      for (const auto& a : store.list_agents())
        if (a.name == name) return true;
    } catch (const ResourceError&) {
    }
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100ms);
  }
}

/// The text of the file at `path`.
std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Whether the file at `path` says `line`, read until `until`.
bool says(const std::string& path, const std::string& line, std::chrono::steady_clock::time_point until) {
  for (;;) {
    if (text_of(path).find(line) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100ms);
  }
}

/// An agent named `name` run by run_agent on a thread of its own, logging to a file in `ws`;
/// stopped and joined when this goes away (also when a REQUIRE ends the test early).
struct AgentThread {
  AgentThread(WorkflowStore& store, const std::string& name, const TempDir& ws) : log_path(ws / "agent.log") {
    AgentOptions o;
    o.name = name;
    o.exe = "/bin/false";
    o.workspace = ws.path();
    o.scan_interval = 100ms;
    log = std::fopen(log_path.c_str(), "w");
    if (!log) throw std::runtime_error("cannot write " + log_path);
    thread = std::thread([this, &store, o] {
      try {
        run_agent(store, o, stop, log);
      } catch (const std::exception& e) {
        error = e.what();
      }
      ended = true;
    });
  }
  ~AgentThread() { join(); }
  /// Stops the agent and waits for it to end.
  void join() {
    stop = true;
    if (thread.joinable()) thread.join();
    if (log) std::fclose(log);
    log = nullptr;
  }

  std::string log_path;
  std::FILE* log = nullptr;
  std::atomic<bool> stop{false};
  std::atomic<bool> ended{false};
  std::string error;  ///< what run_agent threw, once ended
  std::thread thread;
};

}  // namespace

TEST_CASE("agent: keeps running while etcd has no quorum, and registers again when it is back", "[etcd][agent]") {
  testing::EtcdTestCluster own(3);
  TempDir ws{"prov-agent-quorum"};
  EtcdStore store(EtcdStoreOptions{testing::etcd_test_settings(own.endpoints(), "/agent-quorum"), ws / ".provisioning",
                                   ws.path(), "host-a"});
  AgentThread agent(store, "a1", ws);
  CHECK(listed(store, "a1", std::chrono::steady_clock::now() + 10s));

  own.kill(0);
  own.kill(1);  // no quorum: past the lease's TTL, the agent goes on
  std::this_thread::sleep_for(4s);
  CHECK_FALSE(agent.ended);
  own.start(0);
  own.start(1);
  // (Its old key may still be listed: a new leader renews every lease once. So the test waits
  // for the agent's own word that it registered again.)
  const bool registered = says(agent.log_path, "agent a1: registered again", std::chrono::steady_clock::now() + 30s);
  const bool answers = says(agent.log_path, "agent a1: the store answers again", std::chrono::steady_clock::now() + 10s);
  const bool listed_again = listed(store, "a1", std::chrono::steady_clock::now() + 10s);
  const std::string text = text_of(agent.log_path);
  CAPTURE(text, agent.error);
  CHECK(registered);
  CHECK(answers);
  CHECK(listed_again);
  CHECK_FALSE(agent.ended);
  agent.join();
  CHECK(agent.error.empty());
  CHECK(text.find("agent a1: cannot read the store, trying again") != std::string::npos);
}

TEST_CASE("agent: registers again after losing its registration, waiting while another holds its name", "[etcd][agent]") {
  auto& cluster = testing::shared_etcd_cluster();
  TempDir ws{"prov-agent-again"};
  const std::string prefix = "/agent-again";
  EtcdStore store(EtcdStoreOptions{testing::etcd_test_settings(cluster.endpoints(), prefix), ws / ".provisioning",
                                   ws.path(), "host-a"});
  AgentThread agent(store, "a2", ws);
  REQUIRE(listed(store, "a2", std::chrono::steady_clock::now() + 10s));

  // Its lease ends under it, and at once another process holds the name for a while: the
  // agent waits for the name, then registers again (it used to end: "runs already").
  EtcdClient client(cluster.options());
  const std::string key = prefix + "/agents/a2";
  const std::optional<EtcdKv> held = client.get(key);
  REQUIRE(held);
  const int64_t other = client.grant_lease(std::chrono::seconds(3));
  client.txn({}, {EtcdOp::put(key, R"({"name":"a2","host":"elsewhere","pid":1})", other)}, {});
  client.revoke_lease(held->lease);
  const bool waited = says(agent.log_path, "agent a2: cannot register, trying again: an agent named 'a2' runs already on elsewhere",
                           std::chrono::steady_clock::now() + 10s);
  const bool registered = says(agent.log_path, "agent a2: registered again", std::chrono::steady_clock::now() + 15s);
  bool own = false;
  for (const auto& a : store.list_agents()) own = own || (a.name == "a2" && a.host != "elsewhere");
  const std::string text = text_of(agent.log_path);
  CAPTURE(text, agent.error);
  CHECK(waited);
  CHECK(registered);
  CHECK(own);
  CHECK_FALSE(agent.ended);
  agent.join();
  CHECK(agent.error.empty());
}
