#include "core/engine/checkpoint.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
Event ev(const char* type, std::optional<std::string> op = std::nullopt, std::optional<int64_t> attempt = std::nullopt) {
  Event e;
  e.time = DateTime{"2026-11-26T20:00:00+00:00"};
  e.workflow_id = "wf";
  e.type = type;
  e.operation = op;
  e.attempt = attempt;
  return e;
}
}  // namespace

TEST_CASE("a checkpoint folds attempts away and keeps outcomes, undo data and order", "[checkpoint]") {
  std::vector<Event> events = {
      ev(event_type::workflow_started),           ev(event_type::operation_started, "a", 1),
      ev(event_type::operation_succeeded, "a", 1), ev(event_type::operation_started, "b", 1),
      ev(event_type::operation_retrying, "b", 1), ev(event_type::operation_started, "b", 2),
      ev(event_type::operation_failed, "b", 2),   ev(event_type::operation_skipped, "c"),
      ev(event_type::rollback_started),           ev(event_type::rollback_step, "a"),
      ev(event_type::rollback_completed),         ev(event_type::workflow_failed),
  };
  std::vector<Datum> undo(events.size());
  undo[2] = Datum(DatumRecord{{"file", Datum("x")}});
  Datum cp = make_checkpoint("wf", events, undo);
  REQUIRE(is_checkpoint(cp));
  CHECK(cp.find("step")->v == Datum(1).v);
  CHECK(cp.find("completed_operations")->list() == DatumList{Datum("a")});
  CHECK(cp.find("current_state")->find("a")->str() == "rolled_back");
  CHECK(cp.find("current_state")->find("b")->str() == "failed");
  CHECK(cp.find("current_state")->find("c")->str() == "skipped");
  for (const char* field : {"workflow_id", "timestamp", "metadata"}) CHECK(cp.find(field) != nullptr);

  std::vector<Event> back;
  std::vector<Datum> back_undo;
  expand_checkpoint(cp, back, back_undo);
  std::vector<std::string> types;
  for (const auto& e : back) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"workflow_started", "operation_succeeded", "operation_failed",
                                          "operation_skipped", "rollback_started", "rollback_step",
                                          "rollback_completed", "workflow_failed"});
  CHECK(back_undo[1].find("file")->str() == "x");
  CHECK(back_undo[0].is_null());
}
