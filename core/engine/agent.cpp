#include "core/engine/agent.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/config/config.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/engine/workflow_runner.hpp"
#include "core/state/open_store.hpp"
#include "core/support/host_name.hpp"
#include "core/support/proc_stat.hpp"

namespace prov {

namespace {

using Clock = std::chrono::steady_clock;

/// Statuses a runner left unfinished: a workflow there without a holder is the agent's to take.
bool unfinished(const std::string& status) {
  return status == "pending" || status == "running" || status == "interrupted";
}

/// Sleeps `d`, or less when `stop` is set meanwhile.
void pause(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

/// Registers `me` in `store`, again every scan interval while the store is out of reach (said
/// once in `log`), until it is registered or `stop` is set (then nullptr). When it registers
/// `again` (it had lost its registration), every error of the store is tried again: one that
/// would end an agent at its start (its name taken) can be its own old key, or etcd just back.
std::unique_ptr<AgentRegistration> register_until(WorkflowStore& store, const AgentRecord& me, const AgentOptions& o,
                                                  bool again, const std::atomic<bool>& stop, std::FILE* log) {
  std::string said;
  while (!stop) {
    try {
      return store.register_agent(me);
    } catch (const ResourceError& e) {
      if (!again && e.code() != "provisioning::etcd::unavailable") throw;
      if (said != e.code()) {
        std::fprintf(log, "agent %s: cannot register, trying again: %s\n", o.name.c_str(), e.what());
        std::fflush(log);
        said = e.code();
      }
    }
    pause(o.scan_interval, stop);
  }
  return nullptr;
}

std::atomic<bool> g_stop{false};
void on_stop(int) { g_stop = true; }

}  // namespace

void run_agent(WorkflowStore& store, const AgentOptions& o, const std::atomic<bool>& stop, std::FILE* log) {
  AgentRecord me;
  me.name = o.name;
  me.host = this_host_name();
  me.pid = ::getpid();
  me.started = now_utc().rfc3339;
  std::unique_ptr<AgentRegistration> registration = register_until(store, me, o, false, stop, log);
  if (!registration) return;
  std::fprintf(log, "agent %s: watching %s\n", o.name.c_str(), store.describe().c_str());
  std::fflush(log);
  bool out_of_reach = false;                              ///< the last scan could not read the store (said once)
  std::map<std::string, Clock::time_point> unheld_since;  ///< workflows seen unfinished without a holder
  std::set<std::string> finished;                         ///< ids known to have ended: not read again
  std::mt19937_64 order{std::random_device{}()};           ///< this agent's scan order
  while (!stop) {
    if (!registration->valid()) {
      // Its lease lapsed, or etcd left its renewals unanswered (quorum lost): it goes on, and
      // registers again once etcd answers. Workflows whose runners stopped meanwhile are
      // taken over as any whose claim lapsed.
      std::fprintf(log, "agent %s: lost its registration; registering again once the store answers\n", o.name.c_str());
      std::fflush(log);
      registration.reset();
      registration = register_until(store, me, o, true, stop, log);
      if (!registration) break;
      std::fprintf(log, "agent %s: registered again\n", o.name.c_str());
      std::fflush(log);
    }
    std::vector<std::string> running;
    try {
      // Each agent goes through the workflows in an order of its own, so that agents scanning
      // one queue at once mostly take different workflows rather than race for the same ones.
      std::vector<std::string> ids = store.list_workflows();
      std::shuffle(ids.begin(), ids.end(), order);
      for (const std::string& id : ids) {
        if (finished.count(id)) continue;
        const std::optional<ClaimHolder> holder = store.claim_holder(id);
        if (holder) {
          unheld_since.erase(id);
          if (holder->host.empty() && holder->pid) running.push_back(id);
          continue;
        }
        // Unheld: its history is read (a few requests) only once the grace has passed, so that
        // a scan costs one request per workflow however long the queue of submitted ones.
        const auto [seen, fresh] = unheld_since.emplace(id, Clock::now());
        if (fresh || Clock::now() - seen->second < o.grace) continue;
        const WorkflowHistory history = read_history(store, id);
        const std::string status = workflow_status(history, false).status;
        if (!unfinished(status)) {
          finished.insert(id);
          unheld_since.erase(id);
          continue;
        }
        const RunnerMode mode = history.events.empty() ? RunnerMode::run : RunnerMode::resume;
        try {
          // No wait for the claim: a holder there now is another agent's runner, quicker.
          launch_runner(o.exe, store, o.workspace, id, mode, o.env, std::chrono::milliseconds(0));
          std::fprintf(log, "agent %s: took %s (%s, was %s)\n", o.name.c_str(), id.c_str(), to_string(mode),
                       status.c_str());
          running.push_back(id);
        } catch (const Error& e) {
          // Another agent's runner was quicker (locked), or this one could not run it: said once.
          if (e.code() != "provisioning::state::locked")
            std::fprintf(log, "agent %s: could not take %s: %s\n", o.name.c_str(), id.c_str(), e.what());
        }
        unheld_since.erase(id);
        std::fflush(log);
      }
      std::sort(running.begin(), running.end());  // written only when it changed
      registration->update(running);
      if (out_of_reach) {
        std::fprintf(log, "agent %s: the store answers again\n", o.name.c_str());
        std::fflush(log);
      }
      out_of_reach = false;
    } catch (const ResourceError& e) {
      // The store is out of reach for now (quorum lost): tried again at every scan, said once.
      if (!out_of_reach) {
        std::fprintf(log, "agent %s: cannot read the store, trying again: %s\n", o.name.c_str(), e.what());
        std::fflush(log);
      }
      out_of_reach = true;
    }
    pause(o.scan_interval, stop);
  }
}

int agent_main(const std::vector<std::string>& args) {
  ConfigRequest request;
  AgentOptions o;
  o.name = this_host_name() + "-" + std::to_string(::getpid());
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--workspace" && has_value)
      request.workspace_flag = args[++i];
    else if (a == "--name" && has_value)
      o.name = args[++i];
    else if (a == "--env" && has_value)
      request.env_flag = args[++i];
    else {
      std::fprintf(stderr, "usage: nu_plugin_provisioning agent [--workspace DIR] [--name NAME] [--env NAME]\n");
      return 2;
    }
  }
  if (o.name.empty() || o.name.find('/') != std::string::npos) {
    std::fprintf(stderr, "nu_plugin_provisioning agent: --name must be a non-empty name without '/'\n");
    return 2;
  }
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return 1;
  request.cwd = cwd;
  o.env = current_environment();
  request.env = o.env;
  o.exe = self_executable();
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    const Config cfg = load_config(request);
    if (cfg.workspace_origin == WorkspaceOrigin::None)
      throw ConfigError("provisioning::workspace::none", std::string(cwd) + " is not in a workspace",
                        "start the agent in the workspace's folder or with --workspace DIR");
    o.workspace = cfg.workspace;
    const std::unique_ptr<WorkflowStore> store = open_store(store_settings(cfg, state_folder(cfg)));
    run_agent(*store, o, g_stop, stdout);
    std::fprintf(stdout, "agent %s: stopped\n", o.name.c_str());
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "nu_plugin_provisioning agent: %s [%s]%s%s\n", e.what(), e.code().c_str(),
                 e.help().empty() ? "" : "\n  help: ", e.help().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning agent: %s\n", e.what());
    return 1;
  }
}

}  // namespace prov
