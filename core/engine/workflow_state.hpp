#pragma once
/// A workflow's state as its journaled events tell it: the one fold of those events. Resuming
/// (the runner's restore), `prov workflow status` and `list`, checkpoints and the progress line
/// all read this fold, so they cannot disagree about where an operation or the workflow stands.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/events/event.hpp"

namespace prov {

enum class OpStatus { pending, running, succeeded, failed, skipped, rolled_back };
const char* to_string(OpStatus s);

/// Where one operation stands.
struct OperationState {
  OpStatus status = OpStatus::pending;
  int attempts = 0;
  Datum undo;                ///< from its successful attempt
  /// Its result as journaled with its success ({{ops.<id>.out}}, `.exit_code`): `out` is
  /// redacted there when it held a secret, and then out_private says that the whole value is
  /// in the workflow's private folder.
  Datum out;
  std::optional<int64_t> exit_code;
  bool out_private = false;
  bool undo_failed = false;  ///< its rollback step failed in the current rollback phase
  bool undoing = false;      ///< its rollback step started in the current run and did not end
};

/// What a workflow is doing: nothing yet, running its operations, or undoing them.
enum class WorkflowPhase { none, run, rollback };
const char* to_string(WorkflowPhase p);

/// Operations by state; `running` counts what started in the current run and did not end.
struct StateCounts {
  size_t pending = 0, running = 0, succeeded = 0, failed = 0, skipped = 0, rolled_back = 0;
  bool operator==(const StateCounts&) const = default;
};

class WorkflowState {
 public:
  /// `operation_ids`: the workflow's operations in its own order; events naming others add
  /// them after these.
  explicit WorkflowState(const std::vector<std::string>& operation_ids = {});

  /// Folds in the next journaled event; `undo` is what accompanies an operation_succeeded.
  void apply(const Event& e, const Datum& undo = {});

  const std::vector<std::string>& ids() const { return ids_; }
  const std::vector<OperationState>& operations() const { return ops_; }
  /// Puts back operation `i`'s whole result where the journal holds it redacted (out_private).
  void restore_out(size_t i, Datum out) { ops_.at(i).out = std::move(out); }
  std::optional<size_t> index(const std::string& id) const;

  /// Operations that succeeded, in the order of their (last) success; rolled back ones too.
  const std::vector<size_t>& completion_order() const { return completion_order_; }
  /// Operations started in the current run that did not end: a crash caught them in flight.
  std::vector<std::string> in_flight() const;
  /// Operations whose rollback step started in the current run and did not end.
  std::vector<std::string> undo_in_flight() const;
  /// Operations whose rollback step failed in the current rollback phase.
  std::vector<std::string> undo_failed() const;
  StateCounts counts() const;

  WorkflowPhase phase() const { return phase_; }
  bool started() const { return phase_ != WorkflowPhase::none; }
  /// The last run ended (a terminal event, or the end of a rollback): nothing is left to resume.
  bool ended() const { return ended_; }
  /// True once an operation of the forward run failed (retries spent) or was cancelled.
  bool any_failed() const;
  /// How it ended: completed, failed, cancelled, rolled_back or rollback_failed; "" when it has
  /// not (yet) ended.
  std::string outcome() const;
  /// Why the current (or last) rollback ran: failed, cancelled or requested; "" when none ran.
  const std::string& cause() const { return cause_; }
  const std::optional<DateTime>& started_at() const { return started_at_; }
  const std::optional<DateTime>& finished_at() const { return finished_at_; }
  const std::optional<Duration>& duration() const { return duration_; }

 private:
  size_t op(const std::string& id);
  void new_run();

  std::vector<std::string> ids_;
  std::map<std::string, size_t> index_;
  std::vector<OperationState> ops_;
  std::vector<size_t> completion_order_;
  WorkflowPhase phase_ = WorkflowPhase::none;
  bool ended_ = false;
  bool rollback_done_ = false;   ///< the current rollback phase journaled its end
  std::string terminal_status_;  ///< of the last terminal event of a forward run
  std::string cause_;
  std::optional<DateTime> started_at_, finished_at_;
  std::optional<Duration> duration_;
};

/// The fold of `events` (with their undo data, by index; `undo` may be shorter).
WorkflowState fold_events(const std::vector<std::string>& operation_ids, const std::vector<Event>& events,
                          const std::vector<Datum>& undo = {});

}  // namespace prov
