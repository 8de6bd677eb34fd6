#pragma once
/// A workflow's progress as its events tell it, for a one-line status display
/// (the printer is the caller's: this only counts). The counting is the workflow's one fold of
/// its events (WorkflowState), the same that `prov workflow status` shows.

#include <string>

#include "core/engine/workflow_state.hpp"
#include "core/events/event.hpp"

namespace prov {

class WorkflowProgress {
 public:
  /// `total`: the number of operations in the workflow.
  explicit WorkflowProgress(size_t total) : total_(total) {}

  /// Takes the next event of the workflow into account.
  void observe(const Event& e) { state_.apply(e); }

  size_t total() const { return total_; }
  /// Operations that succeeded (and are not rolled back).
  size_t done() const { return state_.counts().succeeded; }
  /// Operations started (or waiting to retry) in the current run and not finished.
  size_t running() const { return state_.counts().running; }
  size_t failed() const { return state_.counts().failed; }
  size_t skipped() const { return state_.counts().skipped; }
  size_t rolled_back() const { return state_.counts().rolled_back; }
  const WorkflowState& state() const { return state_; }

  /// "3/10 done, 2 running, 1 failed, 12.3s": done/total, running, failed, then skipped and
  /// rolled back when there are any, and "rolling back" in a rollback; elapsed.
  std::string line(Duration elapsed) const;

 private:
  size_t total_;
  WorkflowState state_;
};

}  // namespace prov
