#include "core/engine/journal_repair.hpp"

#include "core/engine/checkpoint.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

Datum lost_datum(const Journal::LostRecord& l) {
  return Datum(DatumRecord{{"record", Datum(static_cast<int64_t>(l.number))},
                           {"byte", Datum(static_cast<int64_t>(l.offset))},
                           {"bytes", Datum(static_cast<int64_t>(l.size))},
                           {"problem", Datum(l.problem)},
                           {"decoded", l.decoded}});
}

/// The events a lost record held, when it decodes as a journal record.
void add_transitions(const Datum& record, std::vector<Event>& out) {
  if (!record.is_record()) return;
  try {
    std::vector<Event> events;
    std::vector<Datum> undo;
    if (is_checkpoint(record)) {
      expand_checkpoint(record, events, undo);
    } else {
      Datum event = record;
      auto& fields = event.record();
      for (auto it = fields.begin(); it != fields.end(); ++it)
        if (it->first == "$undo") {
          fields.erase(it);
          break;
        }
      events.push_back(Event::from_datum(event));
    }
    out.insert(out.end(), events.begin(), events.end());
  } catch (const Error&) {
    // Not an event (a byte of it changed): the lost record is reported as it is.
  }
}

}  // namespace

Datum JournalRepair::to_datum() const {
  DatumList lost_list, transitions;
  for (const auto& l : lost) lost_list.push_back(lost_datum(l));
  for (const auto& e : lost_transitions) transitions.push_back(e.to_datum());
  return Datum(DatumRecord{{"workflow_id", Datum(workflow_id)},
                           {"repaired", Datum(repaired)},
                           {"problem", Datum(problem)},
                           {"byte", Datum(static_cast<int64_t>(byte))},
                           {"kept_records", Datum(static_cast<int64_t>(kept_records))},
                           {"damaged_file", Datum(damaged_file)},
                           {"lost", Datum(std::move(lost_list))},
                           {"lost_transitions", Datum(std::move(transitions))}});
}

JournalRepair repair_journal(WorkflowStore& store, const std::string& id) {
  std::unique_ptr<WorkflowClaim> claim = store.claim(id, std::chrono::milliseconds(0));
  OpenedJournal opened = store.open_journal(*claim, Journal::TailRepair::cut_corruption);
  const Journal::Recovery& r = opened.recovery;
  JournalRepair report;
  report.workflow_id = id;
  report.byte = r.valid_bytes;
  report.kept_records = r.records.size();
  if (!r.tail_damaged) return report;
  report.repaired = true;
  report.problem = r.tail_problem;
  report.lost = r.lost;
  if (!r.lost.empty()) report.damaged_file = store.damaged_journal_location(id, r.valid_bytes);
  for (const auto& l : r.lost) add_transitions(l.decoded, report.lost_transitions);

  Event e;
  e.time = now_utc();
  e.workflow_id = id;
  e.type = event_type::journal_repaired;
  e.message = "the journal was repaired: " + r.tail_problem + "; " + std::to_string(r.records.size()) +
              " records kept, " + std::to_string(r.lost.size()) + " lost" +
              (report.damaged_file.empty() ? "" : " (their bytes are kept in " + report.damaged_file + ")");
  Datum details = report.to_datum();
  details.record().erase(details.record().begin());  // the event names the workflow already
  e.details = std::move(details);
  opened.writer->wait_durable(opened.writer->append(journal_record(e, {})));
  store.open_event_log(*claim)->append(e);
  return report;
}

}  // namespace prov
