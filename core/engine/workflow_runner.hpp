#pragma once
/// The runner: the process that executes one workflow, detached from the Nu session that asked
/// for it so the workflow outlives it. It holds the workflow's runner lock, journals every
/// transition durably and appends every event to the event log that sessions follow.

#include <chrono>
#include <string>
#include <sys/types.h>

#include "core/state/workflow_store.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

enum class RunnerMode { run, resume, rollback };
/// How long a runner waits for another holder of its workflow to let go, unless told otherwise.
inline constexpr std::chrono::milliseconds kRunnerClaimWait{5000};
const char* to_string(RunnerMode m);
std::optional<RunnerMode> runner_mode_from(std::string_view text);

/// Executes workflow `id` of `store` in `mode` until it ends; SIGTERM/SIGINT cancel it.
/// Returns 0 when the workflow reached an end (whatever its outcome), 1 when it could not run
/// (locked by another runner, nothing to resume, a corrupt journal); the reason is on stderr,
/// and on `ready_fd` when given: that descriptor gets one JSON line, `{"ready": true}` once the
/// runner holds the workflow and is about to run it, or the error that kept it from running
/// (`{"code", "message", "help"}`), and is closed. It waits up to `claim_wait` for a holder
/// that is letting go (a runner ending, a dead holder's lease lapsing) before it says `locked`.
int run_workflow(WorkflowStore& store, const std::string& workspace, const std::string& id, RunnerMode mode,
                 int ready_fd = -1, std::chrono::milliseconds claim_wait = kRunnerClaimWait);

/// Starts `exe --runner MODE WORKSPACE STORE ID 3 WAIT_MS` (STORE: the store's runner_locator(); WAIT_MS: its
/// `claim_wait`, as run_workflow() takes it) detached (own session, stdin from
/// /dev/null, output to the workflow's runner.log) in `env`, the environment its operations and
/// providers see, and returns once the runner holds the workflow (its readiness pipe says so):
/// a session that follows it may take a runner that has let go for one that has ended. Throws
/// ResourceError `provisioning::process::spawn` when it cannot start, and the runner's own error
/// (e.g. `provisioning::state::locked`) when it started but cannot run the workflow.
/// An agent passes a `claim_wait` of 0: a holder there means another agent was quicker.
void launch_runner(const std::string& exe, const WorkflowStore& store, const std::string& workspace,
                   const std::string& id, RunnerMode mode, const Environment& env,
                   std::chrono::milliseconds claim_wait = kRunnerClaimWait);

/// The runner's entry from main(): `args` are what follows `--runner` (MODE WORKSPACE STORE
/// ID, and the readiness descriptor and claim wait when launch_runner started it). Detaches (fork, setsid) and
/// runs; returns the process exit code.
int runner_main(const std::vector<std::string>& args);

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and the threads it starts), as
/// run_workflow() expects: it takes them as a request to cancel.
void block_runner_signals();

/// Asks the runner of workflow `id` to cancel (SIGTERM). False when no runner holds it.
bool signal_runner(const WorkflowStore& store, const std::string& id);

}  // namespace prov
