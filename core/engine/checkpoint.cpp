#include "core/engine/checkpoint.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/engine/workflow_state.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {
/// Which events change nothing that the fold of the events after them does not set again: a
/// retry's note; an attempt's start that a later start or outcome of the same operation
/// numbers; an undo step's start that its outcome or a later run supersedes. One pass from the
/// end.
std::vector<bool> superseded(const std::vector<Event>& events) {
  std::vector<bool> drop(events.size(), false);
  std::map<std::string, int64_t> later_attempt;  // by operation: the highest attempt numbered after
  std::set<std::string> later_step;              // operations with a rollback_step after
  bool later_run = false;                        // a run or rollback starts after
  for (size_t k = events.size(); k-- > 0;) {
    const Event& e = events[k];
    const std::string op = e.operation.value_or("");
    if (e.type == event_type::operation_retrying) {
      drop[k] = true;
    } else if (e.type == event_type::operation_started && e.attempt && e.operation) {
      auto it = later_attempt.find(op);
      drop[k] = it != later_attempt.end() && it->second >= *e.attempt;
    } else if (e.type == event_type::rollback_step_started) {
      drop[k] = later_run || later_step.count(op) > 0;
    }
    if (e.operation && e.attempt &&
        (e.type == event_type::operation_started || e.type == event_type::operation_succeeded ||
         e.type == event_type::operation_failed)) {
      int64_t& a = later_attempt[op];
      a = std::max(a, *e.attempt);
    }
    if (e.type == event_type::rollback_step && e.operation) later_step.insert(op);
    if (e.type == event_type::workflow_started || e.type == event_type::workflow_resumed ||
        e.type == event_type::rollback_started)
      later_run = true;
  }
  return drop;
}
}  // namespace

// A checkpoint keeps, in order, the events whose fold (WorkflowState) is the fold of all of
// them: starts, outcomes with their undo data, rollback steps, runs and ends. Attempts in
// between and retries are folded into the attempt numbers of what follows them.
Datum make_checkpoint(const std::string& workflow_id, const std::vector<Event>& events, const std::vector<Datum>& undo) {
  const WorkflowState w = fold_events({}, events, undo);
  const std::vector<bool> drop = superseded(events);
  DatumList kept;
  for (size_t i = 0; i < events.size(); ++i) {
    if (drop[i]) continue;
    Datum rec = events[i].to_datum();
    if (i < undo.size() && !undo[i].is_null()) rec.set("$undo", undo[i]);
    kept.push_back(std::move(rec));
  }
  DatumList completed;
  for (size_t i : w.completion_order()) completed.emplace_back(w.ids()[i]);
  DatumRecord state;
  for (size_t i = 0; i < w.ids().size(); ++i) state.emplace_back(w.ids()[i], Datum(to_string(w.operations()[i].status)));
  return Datum(DatumRecord{{"type", Datum("checkpoint")},
                           {"workflow_id", Datum(workflow_id)},
                           {"step", Datum(static_cast<int64_t>(completed.size()))},
                           {"completed_operations", Datum(std::move(completed))},
                           {"current_state", Datum(std::move(state))},
                           {"metadata", Datum(DatumRecord{{"folded_records", Datum(static_cast<int64_t>(events.size()))}})},
                           {"timestamp", Datum(now_utc())},
                           {"events", Datum(std::move(kept))}});
}

bool is_checkpoint(const Datum& record) {
  const Datum* t = record.find("type");
  return t && t->is_string() && t->str() == "checkpoint" && record.find("events");
}

void expand_checkpoint(const Datum& checkpoint, std::vector<Event>& events, std::vector<Datum>& undo) {
  const Datum* list = checkpoint.find("events");
  if (!list || !list->is_list())
    throw ResourceError("provisioning::state::corrupt_journal", "a checkpoint record without its events");
  for (Datum rec : list->list()) {
    Datum u;
    if (rec.is_record()) {
      auto& fields = rec.record();
      for (auto it = fields.begin(); it != fields.end(); ++it)
        if (it->first == "$undo") {
          u = std::move(it->second);
          fields.erase(it);
          break;
        }
    }
    events.push_back(Event::from_datum(rec));
    undo.push_back(std::move(u));
  }
}

}  // namespace prov
