#include "core/events/progress.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
Event ev(const char* type, const char* op) {
  Event e;
  e.type = type;
  if (op) e.operation = op;
  return e;
}
}  // namespace

TEST_CASE("progress: counts operations by their latest event", "[progress]") {
  WorkflowProgress p(4);
  p.observe(ev(event_type::workflow_started, nullptr));
  CHECK(p.line(Duration{0}) == "0/4 done, 0 running, 0 failed, 0.0s");
  p.observe(ev(event_type::operation_started, "a"));
  p.observe(ev(event_type::operation_started, "b"));
  CHECK(p.running() == 2);
  p.observe(ev(event_type::operation_succeeded, "a"));
  p.observe(ev(event_type::operation_retrying, "b"));
  CHECK(p.running() == 1);
  p.observe(ev(event_type::operation_started, "b"));
  p.observe(ev(event_type::operation_failed, "b"));
  p.observe(ev(event_type::operation_skipped, "c"));
  CHECK(p.done() == 2);
  CHECK(p.failed() == 1);
  CHECK(p.running() == 0);
  CHECK(p.line(Duration{12'340'000'000}) == "2/4 done, 0 running, 1 failed, 12.3s");
}
