#include "core/events/progress.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
Event ev(const char* type, const char* op, std::optional<Datum> details = std::nullopt) {
  Event e;
  e.type = type;
  if (op) e.operation = op;
  e.details = std::move(details);
  return e;
}
}  // namespace

TEST_CASE("progress: counts operations by their latest event; skipped is not done", "[progress]") {
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
  CHECK(p.done() == 1);
  CHECK(p.skipped() == 1);
  CHECK(p.failed() == 1);
  CHECK(p.running() == 0);
  CHECK(p.line(Duration{12'340'000'000}) == "1/4 done, 0 running, 1 failed, 1 skipped, 12.3s");
  p.observe(ev(event_type::rollback_started, nullptr, Datum(DatumRecord{{"cause", Datum("failed")}})));
  CHECK(p.line(Duration{0}) == "1/4 done, 0 running, 1 failed, 1 skipped, rolling back, 0.0s");
  p.observe(ev(event_type::rollback_step, "a", Datum(DatumRecord{{"ok", Datum(true)}})));
  CHECK(p.done() == 0);
  CHECK(p.rolled_back() == 1);
}
