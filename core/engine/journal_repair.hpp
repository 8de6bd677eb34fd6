#pragma once
/// `prov workflow repair`: the explicit way out of a damaged workflow journal. It keeps the
/// journal's intact prefix, cuts off everything from the damaged record on (kept beside the
/// journal), says exactly which transitions that loses, and journals itself.

#include <string>
#include <vector>

#include "core/events/event.hpp"
#include "core/state/journal.hpp"
#include "core/state/workflow_store.hpp"

namespace prov {

/// What a repair found and did.
struct JournalRepair {
  std::string workflow_id;
  bool repaired = false;  ///< false: the journal was whole, nothing changed
  std::string problem;    ///< the damage, as the journal reader words it
  uint64_t byte = 0;      ///< where the damage starts: the kept prefix's size
  uint64_t kept_records = 0;
  std::string damaged_file;  ///< where the cut bytes are kept (empty when none were cut)
  std::vector<Journal::LostRecord> lost;
  /// The events the lost records held, as far as they decode (a checkpoint's every event).
  std::vector<Event> lost_transitions;
  Datum to_datum() const;
};

/// Repairs the journal of workflow `id`: a torn tail or corruption alike is cut off after the
/// intact records (Journal::TailRepair::cut_corruption), the cut bytes are kept in
/// `<journal>.damaged-<byte>`, and a `journal_repaired` event with the report's details is
/// journaled durably and added to the event log. Claims the workflow: throws ResourceError
/// `provisioning::state::locked` while a runner holds it.
JournalRepair repair_journal(WorkflowStore& store, const std::string& id);

}  // namespace prov
