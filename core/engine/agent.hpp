#pragma once
/// The agent (`nu_plugin_provisioning agent`): runs on any host that shares a workspace's etcd
/// store and takes over the workflows nobody runs: submitted ones whose runner never came, and
/// those whose runner's claim lapsed (its host died or was cut off). For each, it starts a
/// runner on this host as `prov workflow resume` would (finished operations are not re-run;
/// those in flight at the loss are reported as re-executed). Several agents may run: a
/// workflow's claim lets one runner hold it at a time.

#include <atomic>
#include <chrono>
#include <string>

#include "core/state/workflow_store.hpp"
#include "core/support/spawn.hpp"

namespace prov {

struct AgentOptions {
  std::string name;       ///< unique among the live agents of the store
  std::string exe;        ///< this program, to start runners with
  std::string workspace;  ///< this host's copy of the workspace
  Environment env;        ///< what its runners and their operations get
  /// How long a workflow must be seen without a holder before the agent takes it: the session
  /// that submitted it starts its runner meanwhile.
  std::chrono::milliseconds grace{2000};
  std::chrono::milliseconds scan_interval{500};
};

/// Runs the agent until `stop` is set. While the store is out of reach (etcd without quorum,
/// no endpoint answering) it keeps trying, never exits: it registers again once its lease has
/// lapsed, and takes over the workflows whose runners stopped meanwhile. Prints one line per
/// workflow it takes, and one when the store stops and starts answering, to `log`.
void run_agent(WorkflowStore& store, const AgentOptions& options, const std::atomic<bool>& stop, std::FILE* log);

/// The entry from main(): `args` follow `agent` ([--workspace DIR] [--name NAME] [--env NAME]).
/// Returns the process exit code.
int agent_main(const std::vector<std::string>& args);

}  // namespace prov
