#include "core/engine/checkpoint.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
Event ev(const char* type, std::optional<std::string> op = std::nullopt, std::optional<int64_t> attempt = std::nullopt,
         std::optional<Datum> details = std::nullopt) {
  Event e;
  e.time = DateTime{"2026-11-26T20:00:00+00:00"};
  e.workflow_id = "wf";
  e.type = type;
  e.operation = op;
  e.attempt = attempt;
  e.details = std::move(details);
  return e;
}
Datum ok(bool v) { return Datum(DatumRecord{{"ok", Datum(v)}}); }
}  // namespace

TEST_CASE("a checkpoint folds attempts away and keeps outcomes, undo data and order", "[checkpoint]") {
  std::vector<Event> events = {
      ev(event_type::workflow_started),
      ev(event_type::operation_started, "a", 1),
      ev(event_type::operation_succeeded, "a", 1),
      ev(event_type::operation_started, "d", 1),
      ev(event_type::operation_succeeded, "d", 1),
      ev(event_type::operation_started, "b", 1),
      ev(event_type::operation_retrying, "b", 1),
      ev(event_type::operation_started, "b", 2),
      ev(event_type::operation_failed, "b", 2),
      ev(event_type::operation_skipped, "c"),
      ev(event_type::rollback_started),
      ev(event_type::rollback_step_started, "d"),
      ev(event_type::rollback_step, "d", std::nullopt, ok(false)),
      ev(event_type::rollback_step_started, "a"),
      ev(event_type::rollback_step, "a", std::nullopt, ok(true)),
      ev(event_type::rollback_completed),
      ev(event_type::workflow_failed),
  };
  std::vector<Datum> undo(events.size());
  undo[2] = Datum(DatumRecord{{"file", Datum("x")}});
  Datum cp = make_checkpoint("wf", events, undo);
  REQUIRE(is_checkpoint(cp));
  CHECK(cp.find("step")->v == Datum(2).v);
  CHECK(cp.find("completed_operations")->list() == DatumList{Datum("a"), Datum("d")});
  CHECK(cp.find("current_state")->find("a")->str() == "rolled_back");
  // A failed undo step leaves its operation as it was: not rolled back.
  CHECK(cp.find("current_state")->find("d")->str() == "succeeded");
  CHECK(cp.find("current_state")->find("b")->str() == "failed");
  CHECK(cp.find("current_state")->find("c")->str() == "skipped");
  for (const char* field : {"workflow_id", "timestamp", "metadata"}) CHECK(cp.find(field) != nullptr);

  std::vector<Event> back;
  std::vector<Datum> back_undo;
  expand_checkpoint(cp, back, back_undo);
  std::vector<std::string> types;
  for (const auto& e : back) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"workflow_started", "operation_succeeded", "operation_succeeded",
                                          "operation_failed", "operation_skipped", "rollback_started",
                                          "rollback_step", "rollback_step", "rollback_completed", "workflow_failed"});
  CHECK(back_undo[1].find("file")->str() == "x");
  CHECK(back_undo[0].is_null());
}

TEST_CASE("a checkpoint of a run cut short keeps what is in flight", "[checkpoint]") {
  // Kept: the start of an attempt nothing after numbers, and an undo step in flight.
  std::vector<Event> events = {
      ev(event_type::workflow_started),          ev(event_type::operation_started, "a", 1),
      ev(event_type::operation_succeeded, "a", 1), ev(event_type::operation_started, "b", 1),
      ev(event_type::operation_failed, "b", 1),  ev(event_type::rollback_started),
      ev(event_type::rollback_step_started, "a"),
  };
  std::vector<Event> back;
  std::vector<Datum> back_undo;
  expand_checkpoint(make_checkpoint("wf", events, std::vector<Datum>(events.size())), back, back_undo);
  std::vector<std::string> types;
  for (const auto& e : back) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"workflow_started", "operation_succeeded", "operation_failed",
                                          "rollback_started", "rollback_step_started"});
}
