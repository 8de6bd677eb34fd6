#include "core/engine/workflow_state.hpp"

#include <algorithm>

namespace prov {

const char* to_string(OpStatus s) {
  switch (s) {
    case OpStatus::pending: return "pending";
    case OpStatus::running: return "running";
    case OpStatus::succeeded: return "succeeded";
    case OpStatus::failed: return "failed";
    case OpStatus::skipped: return "skipped";
    case OpStatus::rolled_back: return "rolled_back";
  }
  return "unknown";
}

const char* to_string(WorkflowPhase p) {
  switch (p) {
    case WorkflowPhase::none: return "none";
    case WorkflowPhase::run: return "run";
    case WorkflowPhase::rollback: return "rollback";
  }
  return "none";
}

namespace {
const std::string* detail_string(const Event& e, const char* key) {
  if (!e.details) return nullptr;
  const Datum* d = e.details->find(key);
  return d && d->is_string() ? &d->str() : nullptr;
}

bool detail_true(const Event& e, const char* key) {
  if (!e.details) return false;
  const Datum* d = e.details->find(key);
  return d && std::holds_alternative<bool>(d->v) && std::get<bool>(d->v);
}
}  // namespace

WorkflowState::WorkflowState(const std::vector<std::string>& operation_ids) {
  for (const auto& id : operation_ids) op(id);
}

size_t WorkflowState::op(const std::string& id) {
  auto [it, added] = index_.emplace(id, ids_.size());
  if (added) {
    ids_.push_back(id);
    ops_.emplace_back();
  }
  return it->second;
}

std::optional<size_t> WorkflowState::index(const std::string& id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void WorkflowState::new_run() {
  // What was in flight before was reported by this run's start; only what starts in this run
  // and does not end is in flight at its crash.
  for (auto& o : ops_) {
    if (o.status == OpStatus::running) o.status = OpStatus::pending;
    o.undoing = false;
  }
  ended_ = false;
  finished_at_.reset();
  duration_.reset();
}

void WorkflowState::apply(const Event& e, const Datum& undo) {
  const std::string& t = e.type;
  if (t == event_type::workflow_started) {
    if (!started_at_) started_at_ = e.time;
    phase_ = WorkflowPhase::run;
    new_run();
    return;
  }
  if (t == event_type::workflow_resumed) {
    if (!started_at_) started_at_ = e.time;
    if (phase_ == WorkflowPhase::none) phase_ = WorkflowPhase::run;
    new_run();
    return;
  }
  if (t == event_type::rollback_started) {
    if (const std::string* c = detail_string(e, "cause")) cause_ = *c;
    else cause_ = ended_ ? "requested" : "failed";  // journals from before causes were written
    phase_ = WorkflowPhase::rollback;
    rollback_done_ = false;
    for (auto& o : ops_) {
      o.undo_failed = false;
      o.undoing = false;
    }
    ended_ = false;
    finished_at_.reset();
    duration_.reset();
    return;
  }
  if (t == event_type::rollback_completed) {
    rollback_done_ = true;
    ended_ = true;
    finished_at_ = e.time;
    return;
  }
  if (t == event_type::workflow_completed || t == event_type::workflow_failed || t == event_type::workflow_cancelled) {
    ended_ = true;
    finished_at_ = e.time;
    duration_ = e.duration;
    if (const std::string* s = detail_string(e, "status")) terminal_status_ = *s;
    else terminal_status_ = t == event_type::workflow_completed ? "completed"
                            : t == event_type::workflow_cancelled ? "cancelled"
                                                                  : "failed";
    return;
  }
  if (!e.operation) return;
  OperationState& o = ops_[op(*e.operation)];
  const size_t i = *index(*e.operation);
  if (t == event_type::operation_started) {
    o.status = OpStatus::running;
    o.attempts = static_cast<int>(e.attempt.value_or(o.attempts + 1));
  } else if (t == event_type::operation_retrying) {
    o.status = OpStatus::running;
    if (e.attempt) o.attempts = static_cast<int>(*e.attempt);
  } else if (t == event_type::operation_succeeded) {
    o.status = OpStatus::succeeded;
    if (e.attempt) o.attempts = static_cast<int>(*e.attempt);
    o.undo = undo;
    o.exit_code = e.exit_code;
    const Datum* out = e.details ? e.details->find("out") : nullptr;
    o.out = out ? *out : Datum();
    const Datum* hidden = e.details ? e.details->find("out_private") : nullptr;
    o.out_private = hidden && *hidden == Datum(true);
    completion_order_.erase(std::remove(completion_order_.begin(), completion_order_.end(), i),
                            completion_order_.end());
    completion_order_.push_back(i);
  } else if (t == event_type::operation_failed) {
    o.status = OpStatus::failed;
    if (e.attempt) o.attempts = static_cast<int>(*e.attempt);
  } else if (t == event_type::operation_skipped) {
    o.status = OpStatus::skipped;
  } else if (t == event_type::rollback_step_started) {
    o.undoing = true;
  } else if (t == event_type::rollback_step) {
    o.undoing = false;
    if (detail_true(e, "ok")) {
      o.status = OpStatus::rolled_back;
      o.undo_failed = false;
    } else {
      o.undo_failed = true;
    }
  }
}

std::vector<std::string> WorkflowState::in_flight() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].status == OpStatus::running) out.push_back(ids_[i]);
  return out;
}

std::vector<std::string> WorkflowState::undo_in_flight() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].undoing) out.push_back(ids_[i]);
  return out;
}

std::vector<std::string> WorkflowState::undo_failed() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].undo_failed) out.push_back(ids_[i]);
  return out;
}

StateCounts WorkflowState::counts() const {
  StateCounts c;
  for (const auto& o : ops_) {
    switch (o.status) {
      case OpStatus::pending: ++c.pending; break;
      case OpStatus::running: ++c.running; break;
      case OpStatus::succeeded: ++c.succeeded; break;
      case OpStatus::failed: ++c.failed; break;
      case OpStatus::skipped: ++c.skipped; break;
      case OpStatus::rolled_back: ++c.rolled_back; break;
    }
  }
  return c;
}

bool WorkflowState::any_failed() const {
  return std::any_of(ops_.begin(), ops_.end(), [](const OperationState& o) { return o.status == OpStatus::failed; });
}

std::string WorkflowState::outcome() const {
  if (!ended_) return "";
  if (phase_ == WorkflowPhase::rollback && rollback_done_) {
    const bool failed = std::any_of(ops_.begin(), ops_.end(), [](const OperationState& o) { return o.undo_failed; });
    return failed ? "rollback_failed" : "rolled_back";
  }
  return terminal_status_.empty() ? "failed" : terminal_status_;
}

WorkflowState fold_events(const std::vector<std::string>& operation_ids, const std::vector<Event>& events,
                          const std::vector<Datum>& undo) {
  WorkflowState w(operation_ids);
  static const Datum none;
  for (size_t k = 0; k < events.size(); ++k) w.apply(events[k], k < undo.size() ? undo[k] : none);
  return w;
}

}  // namespace prov
