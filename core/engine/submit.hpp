#pragma once
/// Submitting a workflow: what `prov workflow submit|run` and the service's `POST /workflows`
/// share once the workflow has passed preflight. It is recorded durably with the configuration
/// it runs under, then its runner is started and holds it before this returns.
#include <functional>
#include <string>

#include "core/config/config.hpp"
#include "core/state/workflow_store.hpp"
#include "core/support/datum.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

struct SubmitRequest {
  Datum document;              ///< the workflow record as given (checked by preflight_workflow)
  std::string origin;          ///< its file, or "pipeline input", or "HTTP request"
  std::string workspace;       ///< the workspace root
  std::string provisioning_env;  ///< --env, journaled; empty: none given
  int parallel = 0;            ///< --parallel; 0: the workflow's settings
  std::string nu_path;         ///< the Nu binary for `nu` operations
  Environment env;             ///< the environment the runner, its operations and providers see
  std::string runner_exe;      ///< the binary that runs `--runner` (this plugin's)
  /// False: recorded only, pending until an agent of a shared store takes it (`submit --queue`).
  bool launch = true;
  /// Called with the new id after the workflow is recorded and before its runner starts (a
  /// session's closure socket must listen before the runner asks it).
  std::function<void(const std::string& id)> before_launch;
};

/// Records the workflow under `config` (its merged configuration becomes the run's snapshot,
/// secrets kept apart) and starts its runner (unless `request.launch` is false); returns the
/// workflow's id.
std::string submit_workflow(WorkflowStore& store, const Datum& config, const SubmitRequest& request);

}  // namespace prov
