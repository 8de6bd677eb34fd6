#pragma once
/// Runs a workflow's operations in dependency order: at most `parallel` at once, each retried
/// with exponential backoff and jitter, stopped by cancellation; after a failure no new
/// operation starts, running ones finish, then (if enabled) the completed operations are
/// rolled back in reverse completion order. It only decides what runs when: running an attempt,
/// undoing one and recording transitions are the caller's (SchedulerHooks), so the same
/// scheduler serves real processes, tests and resumption.

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/engine/workflow_state.hpp"
#include "core/events/event.hpp"
#include "core/graph/workflow.hpp"
#include "core/ops/op_result.hpp"
#include "core/support/cancel.hpp"

namespace prov {

/// The parts of running a workflow that are not scheduling.
struct SchedulerHooks {
  /// Starts attempt `attempt` (1-based) of operation `op` without waiting: the scheduler's
  /// loop drives what comes back to its end, stopping it when `cancel` fires. nullptr (or no
  /// start_attempt): the attempt is a blocking call, run_attempt, run on the scheduler's pool.
  std::function<std::unique_ptr<RunningOp>(size_t op, int attempt, CancelToken& cancel)> start_attempt;
  /// Runs attempt `attempt` of operation `op`; must return when `cancel` fires.
  std::function<OpResult(size_t op, int attempt, CancelToken& cancel)> run_attempt;
  /// True when operation `op` has something to undo.
  std::function<bool(size_t op)> has_rollback;
  /// Undoes operation `op` given the undo data of its successful attempt.
  std::function<OpResult(size_t op, const Datum& undo)> rollback;
  /// Records a transition. `undo` accompanies operation_succeeded. When `durable` is true the
  /// call returns only once the transition, and every one recorded before it, is on disk (it
  /// precedes something depending on it). A transition recorded with `durable` false may stay
  /// unseen (not on disk, not in the event log) until the next durable record or sync.
  std::function<void(const Event& e, const Datum& undo, bool durable)> record;
  /// Returns once every transition recorded so far is on disk and seen. Optional.
  std::function<void()> sync;
};

/// The outcome of a run.
struct RunSummary {
  std::string status;  ///< completed, failed, cancelled, rolled_back, rollback_failed
  std::string cause;   ///< why a rollback ran (failed, cancelled, requested); "" when none did
  size_t total = 0, succeeded = 0, failed = 0, skipped = 0, rolled_back = 0;
  Duration duration;
  std::vector<std::string> reexecuted;  ///< operations (or undo steps) in flight at a crash, run again
  std::vector<std::string> undo_failed;  ///< operations whose rollback step failed: not undone
  /// The operations that failed, each with the message of its last attempt.
  std::vector<std::pair<std::string, std::string>> failures;
  Datum to_datum() const;
};

class Scheduler {
 public:
  /// `deps[i]` are the indices operation i waits for; `order` is a topological order (the
  /// plan's) used to break ties deterministically.
  Scheduler(const WorkflowSpec& spec, std::string workflow_id, std::vector<std::vector<size_t>> deps,
            std::vector<size_t> order, SchedulerHooks hooks, int parallel, uint64_t seed = std::random_device{}());

  /// Takes up where the journal `journaled` (the fold of a workflow's events) left off:
  /// succeeded operations are not run again and join the rollback stack in completion order;
  /// what was in flight at a crash (operations, undo steps) runs again and is reported.
  void restore(const WorkflowState& journaled);

  /// Runs the operations to the end (or, restored, what is left of them); rolls back after a
  /// failure or a cancel when enabled. `cancel` stops new starts and cancels running attempts.
  /// Restored in a rollback phase, use rollback_only().
  RunSummary run(CancelToken& cancel);

  /// A rollback run: continues a rollback a crash interrupted (its in-flight undo step runs
  /// again, reported), or starts one (`prov workflow rollback`): every succeeded, not yet rolled
  /// back operation is undone in reverse completion order; after a rollback_failed end only
  /// those whose undo failed are left. A forward run that a crash interrupted is closed first
  /// (in-flight operations failed, pending ones skipped).
  RunSummary rollback_only();

  const std::vector<OperationState>& states() const { return states_; }

  /// The wait before attempt `attempt + 1` after attempt `attempt` failed: backoff doubled per
  /// attempt, capped at max_backoff, then jittered into [d/2, d].
  static Duration backoff_delay(const RetryPolicy& p, int attempt, std::mt19937_64& rng);

 private:
  Event event(const char* type, std::optional<size_t> op = std::nullopt) const;
  /// An event of operation `op` that tells how its attempt `attempt` went (`r`).
  Event attempt_event(const char* type, size_t op, int attempt, const OpResult& r) const;
  /// The rollback phase: `resumed` continues one a crash interrupted, else one starts.
  void run_rollback(bool resumed);
  /// Fills the counts, status and cause of `s`, and journals the run's terminal event.
  void finish(RunSummary& s, const std::string& forward_status, bool rolled_back, Duration took);
  const RetryPolicy& retry_for(size_t op) const;

  const WorkflowSpec& spec_;
  std::string workflow_id_;
  std::vector<std::vector<size_t>> deps_;
  std::vector<std::vector<size_t>> dependents_;  ///< inverse of deps_
  std::vector<size_t> order_;
  std::vector<size_t> rank_;                     ///< position of each op in order_
  SchedulerHooks hooks_;
  int parallel_;
  std::mt19937_64 rng_;
  std::vector<OperationState> states_;
  std::vector<size_t> completion_order_;         ///< succeeded ops, in the order they finished
  std::vector<std::string> reexecuted_;          ///< operations in flight at the crash restored from
  std::vector<std::string> undo_reexecuted_;     ///< undo steps in flight at that crash
  WorkflowPhase phase_ = WorkflowPhase::none;    ///< where the restored journal stood
  bool ended_before_ = false;                    ///< the restored journal's last run had ended
  std::string outcome_before_;                   ///< and how (WorkflowState::outcome)
  std::string cause_;                            ///< of the current rollback phase
  std::vector<std::string> failure_message_;     ///< by op: why it failed in this run; "" if not
};

}  // namespace prov
