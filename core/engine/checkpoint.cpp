#include "core/engine/checkpoint.hpp"

#include "core/support/error.hpp"

namespace prov {

// A checkpoint keeps, in order, the events that matter for status, resumption and rollback:
// the workflow's start, each operation's last outcome with its undo data, rollback steps and
// the workflow's end. Attempts in between and retries are folded into attempt counts.
Datum make_checkpoint(const std::string& workflow_id, const std::vector<Event>& events, const std::vector<Datum>& undo) {
  DatumList kept;
  DatumList completed;
  DatumRecord state;
  auto set_state = [&](const std::string& op, const char* st) {
    for (auto& [k, v] : state)
      if (k == op) {
        v = Datum(st);
        return;
      }
    state.emplace_back(op, Datum(st));
  };
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    bool keep = e.type != event_type::operation_retrying && e.type != event_type::operation_started;
    if (e.operation) {
      if (e.type == event_type::operation_succeeded) {
        completed.emplace_back(*e.operation);
        set_state(*e.operation, "succeeded");
      } else if (e.type == event_type::operation_failed) {
        set_state(*e.operation, "failed");
      } else if (e.type == event_type::operation_skipped) {
        set_state(*e.operation, "skipped");
      } else if (e.type == event_type::rollback_step) {
        set_state(*e.operation, "rolled_back");
      }
    }
    if (!keep) continue;
    Datum rec = e.to_datum();
    if (!undo[i].is_null()) rec.set("$undo", undo[i]);
    kept.push_back(std::move(rec));
  }
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
