#pragma once
/// Running one process on behalf of an operation: the context's environment with the
/// operation's additions over it, its working directory inside the workspace, its log, limits
/// and cancel token, and the outcome as an OpResult (with the tail of its output).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ops/op_kind.hpp"
#include "core/support/temp_dir.hpp"

namespace prov {

/// A process an operation runs.
struct OpProcess {
  std::vector<std::string> argv;
  Environment env;                     ///< set over the context's base environment
  std::string cwd;                     ///< relative to the workspace (or absolute); empty: the workspace
  std::optional<std::string> stdin_text;  ///< nullopt: /dev/null
  /// What stdout becomes besides the log: nothing, the result's `out` as text (without the
  /// final newline), or `out` parsed as JSON. Beyond kMaxOutBytes, or not JSON, it fails.
  enum class Stdout { log, text, json } stdout_use = Stdout::log;
  bool out_required = true;  ///< for text: false leaves `out` null, not failed, beyond the bound
  /// When set, a successful run's `out` is the JSON this file holds once the process ended
  /// (the process writes it); the folder goes with the run.
  std::string out_file;
  std::shared_ptr<const TempDir> scratch;
};

/// Starts `p` under `ctx` and returns it running, for the caller's poll loop (RunningOp).
/// Its result is ok only for exit status 0; otherwise code `provisioning::operation::failed`
/// (exit status), `::timeout` or `::cancelled`. Throws ResourceError
/// `provisioning::process::spawn` / `::log` when it cannot start.
std::unique_ptr<RunningOp> start_op_process(const OpProcess& p, const OpContext& ctx);

/// start_op_process() and waits for its end.
OpResult run_op_process(const OpProcess& p, const OpContext& ctx);

}  // namespace prov
