#include "core/events/progress.hpp"

#include <cstdio>

namespace prov {

std::string WorkflowProgress::line(Duration elapsed) const {
  const StateCounts c = state_.counts();
  std::string extra;
  if (c.skipped) extra += ", " + std::to_string(c.skipped) + " skipped";
  if (c.rolled_back) extra += ", " + std::to_string(c.rolled_back) + " rolled back";
  if (state_.phase() == WorkflowPhase::rollback && !state_.ended()) extra += ", rolling back";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%zu/%zu done, %zu running, %zu failed%s, %.1fs", c.succeeded, total_, c.running,
                c.failed, extra.c_str(), static_cast<double>(elapsed.nanos) / 1e9);
  return buf;
}

}  // namespace prov
