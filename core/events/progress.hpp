#pragma once
/// A workflow's progress as its events tell it, for a one-line status display
/// (the printer is the caller's: this only counts).

#include <map>
#include <string>

#include "core/events/event.hpp"

namespace prov {

class WorkflowProgress {
 public:
  /// `total`: the number of operations in the workflow.
  explicit WorkflowProgress(size_t total) : total_(total) {}

  /// Takes one event into account; events of other types than operation_*
  /// change nothing.
  void observe(const Event& e);

  size_t total() const { return total_; }
  /// Operations that succeeded or were skipped.
  size_t done() const { return count('d'); }
  /// Operations started (or waiting to retry) and not finished.
  size_t running() const { return count('r'); }
  size_t failed() const { return count('f'); }

  /// "3/10 done, 2 running, 1 failed, 12.3s": done/total, running, failed,
  /// elapsed.
  std::string line(Duration elapsed) const;

 private:
  size_t count(char state) const;

  size_t total_;
  std::map<std::string, char> state_;  ///< by operation id: 'r'unning, 'd'one or 'f'ailed
};

}  // namespace prov
