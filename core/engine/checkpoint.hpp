#pragma once
/// Checkpoints: a finished stretch of a workflow's journal folded into one record, so the
/// journal stays small (ninja's log recompaction). A checkpoint carries the seed's
/// WorkflowCheckpoint fields (workflow_id, step, completed_operations, current_state,
/// metadata, timestamp) plus the undo data rollback needs; reading it back yields the events it
/// stands for, so status, resumption and rollback read compacted and uncompacted journals alike.

#include <vector>

#include "core/events/event.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// The checkpoint of `events` (with their undo data, by index), all journaled so far.
Datum make_checkpoint(const std::string& workflow_id, const std::vector<Event>& events, const std::vector<Datum>& undo);

/// True when a journal record is a checkpoint.
bool is_checkpoint(const Datum& record);

/// The events a checkpoint stands for, and their undo data (same indices).
void expand_checkpoint(const Datum& checkpoint, std::vector<Event>& events, std::vector<Datum>& undo);

}  // namespace prov
