#include "core/events/progress.hpp"

#include <cstdio>

namespace prov {

void WorkflowProgress::observe(const Event& e) {
  if (!e.operation) return;
  char s = 0;
  if (e.type == event_type::operation_started || e.type == event_type::operation_retrying)
    s = 'r';
  else if (e.type == event_type::operation_succeeded || e.type == event_type::operation_skipped)
    s = 'd';
  else if (e.type == event_type::operation_failed)
    s = 'f';
  if (s) state_[*e.operation] = s;
}

size_t WorkflowProgress::count(char state) const {
  size_t n = 0;
  for (const auto& [id, s] : state_) n += s == state;
  return n;
}

std::string WorkflowProgress::line(Duration elapsed) const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu/%zu done, %zu running, %zu failed, %.1fs", done(), total_, running(), failed(),
                static_cast<double>(elapsed.nanos) / 1e9);
  return buf;
}

}  // namespace prov
