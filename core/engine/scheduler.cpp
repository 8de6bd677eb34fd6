#include "core/engine/scheduler.hpp"
#include "core/support/duration.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <system_error>
#include <thread>

namespace prov {

Datum RunSummary::to_datum() const {
  DatumList re, undo;
  for (const auto& r : reexecuted) re.emplace_back(r);
  for (const auto& u : undo_failed) undo.emplace_back(u);
  return Datum(DatumRecord{{"status", Datum(status)},
                           {"cause", cause.empty() ? Datum() : Datum(cause)},
                           {"total", Datum(static_cast<int64_t>(total))},
                           {"succeeded", Datum(static_cast<int64_t>(succeeded))},
                           {"failed", Datum(static_cast<int64_t>(failed))},
                           {"skipped", Datum(static_cast<int64_t>(skipped))},
                           {"rolled_back", Datum(static_cast<int64_t>(rolled_back))},
                           {"duration", Datum(to_millis(duration))},
                           {"reexecuted", Datum(std::move(re))},
                           {"undo_failed", Datum(std::move(undo))}});
}

namespace {
Duration since(std::chrono::steady_clock::time_point t0) {
  return Duration{std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()};
}
}  // namespace

Scheduler::Scheduler(const WorkflowSpec& spec, std::string workflow_id, std::vector<std::vector<size_t>> deps,
                     std::vector<size_t> order, SchedulerHooks hooks, int parallel, uint64_t seed)
    : spec_(spec), workflow_id_(std::move(workflow_id)), deps_(std::move(deps)), order_(std::move(order)),
      hooks_(std::move(hooks)), parallel_(std::max(1, parallel)), rng_(seed), states_(spec.operations.size()) {
  dependents_.resize(deps_.size());
  for (size_t i = 0; i < deps_.size(); ++i)
    for (size_t d : deps_[i]) dependents_[d].push_back(i);
  rank_.resize(order_.size());
  for (size_t i = 0; i < order_.size(); ++i) rank_[order_[i]] = i;
}

void Scheduler::restore(const WorkflowState& journaled) {
  completion_order_.clear();
  reexecuted_.clear();
  undo_reexecuted_.clear();
  for (size_t i = 0; i < spec_.operations.size(); ++i) {
    const auto k = journaled.index(spec_.operations[i].id);
    states_[i] = k ? journaled.operations()[*k] : OperationState{};
    if (states_[i].status == OpStatus::running) {  // in flight at the crash: runs again
      states_[i].status = OpStatus::pending;
      reexecuted_.push_back(spec_.operations[i].id);
    }
    if (states_[i].undoing) undo_reexecuted_.push_back(spec_.operations[i].id);
  }
  for (size_t k : journaled.completion_order()) {
    const auto i = std::find_if(spec_.operations.begin(), spec_.operations.end(),
                                [&](const OperationSpec& o) { return o.id == journaled.ids()[k]; });
    if (i != spec_.operations.end()) completion_order_.push_back(static_cast<size_t>(i - spec_.operations.begin()));
  }
  phase_ = journaled.phase();
  ended_before_ = journaled.ended();
  outcome_before_ = journaled.outcome();
  cause_ = journaled.cause();
}

const RetryPolicy& Scheduler::retry_for(size_t op) const {
  const auto& o = spec_.operations[op];
  return o.retry ? *o.retry : spec_.settings.retry;
}

Duration Scheduler::backoff_delay(const RetryPolicy& p, int attempt, std::mt19937_64& rng) {
  int64_t d = p.backoff.nanos;
  for (int i = 1; i < attempt && d < p.max_backoff.nanos; ++i) d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
  d = std::min(d, p.max_backoff.nanos);
  if (d <= 1) return Duration{d};
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return Duration{jitter(rng)};
}

Event Scheduler::event(const char* type, std::optional<size_t> op) const {
  Event e;
  e.time = now_utc();
  e.workflow_id = workflow_id_;
  e.type = type;
  if (op) e.operation = spec_.operations[*op].id;
  return e;
}

RunSummary Scheduler::run(CancelToken& cancel) {
  auto t0 = std::chrono::steady_clock::now();
  const size_t n = spec_.operations.size();
  std::mutex m;
  std::condition_variable cv;
  size_t running = 0;
  bool failed = false;
  // Restored after an operation had failed, or after a cancel had skipped what was left: the
  // run was already stopping. What was in flight then runs again (the run would have let it
  // finish, and it may need undoing); nothing else starts.
  auto any = [&](OpStatus st) {
    return std::any_of(states_.begin(), states_.end(), [&](const OperationState& o) { return o.status == st; });
  };
  const bool failed_before = any(OpStatus::failed);
  const bool cancelled_before = !failed_before && any(OpStatus::skipped);
  const bool stopping = failed_before || cancelled_before;
  auto was_in_flight = [&](size_t i) {
    return std::find(reexecuted_.begin(), reexecuted_.end(), spec_.operations[i].id) != reexecuted_.end();
  };

  auto by_rank = [&](size_t a, size_t b) { return rank_[a] > rank_[b]; };
  std::priority_queue<size_t, std::vector<size_t>, decltype(by_rank)> ready(by_rank);
  std::vector<size_t> waiting(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (states_[i].status != OpStatus::pending) continue;
    for (size_t d : deps_[i])
      if (states_[d].status != OpStatus::succeeded) ++waiting[i];
    if (waiting[i] == 0 && (!stopping || was_in_flight(i))) ready.push(i);
  }

  {
    Event e = event(phase_ == WorkflowPhase::none ? event_type::workflow_started : event_type::workflow_resumed);
    if (!reexecuted_.empty()) {
      std::string list;
      for (const auto& r : reexecuted_) list += (list.empty() ? "" : ", ") + r;
      e.message = "re-executing operations that were in flight: " + list;
    }
    DatumList re;
    for (const auto& r : reexecuted_) re.emplace_back(r);
    e.details = Datum(DatumRecord{{"name", Datum(spec_.name)},
                                  {"total", Datum(static_cast<int64_t>(n))},
                                  {"phase", Datum("run")},
                                  {"reexecuted", Datum(std::move(re))}});
    hooks_.record(e, {}, true);
  }

  // Runs every attempt of `op`; true when one succeeded.
  auto run_op = [&](size_t op) {
    const RetryPolicy& policy = retry_for(op);
    int first = states_[op].attempts + 1;
    for (int attempt = first;; ++attempt) {
      {
        Event e = event(event_type::operation_started, op);
        e.attempt = attempt;
        hooks_.record(e, {}, true);
      }
      AttemptResult r = hooks_.run_attempt(op, attempt, cancel);
      {
        std::lock_guard l(m);
        states_[op].attempts = attempt;
      }
      if (r.ok) {
        Event e = event(event_type::operation_succeeded, op);
        e.attempt = attempt;
        e.exit_code = r.exit_code;
        e.duration = r.duration;
        if (!r.message.empty()) e.message = r.message;
        // Not durable yet: whatever depends on it is recorded durably after it (a dependent's
        // operation_started, the rollback, the workflow's end), and one fdatasync covers both.
        // A worker with nothing to start next syncs (below), so it is never left unseen.
        hooks_.record(e, r.undo, false);
        if (!r.resource_event.empty()) {
          Event re = event(r.resource_event.c_str(), op);
          re.resource = r.resource;
          hooks_.record(re, {}, false);
        }
        std::lock_guard l(m);
        states_[op].undo = std::move(r.undo);
        return true;
      }
      // Each run (a resume too) gets the policy's attempts; numbering goes on across runs.
      bool last = r.permanent || attempt - first + 1 >= policy.attempts;
      if (!r.cancelled && !cancel.cancelled() && !last) {
        Duration wait;
        {
          std::lock_guard l(m);  // the generator is shared by the workers
          wait = backoff_delay(policy, attempt - first + 1, rng_);
        }
        Event e = event(event_type::operation_retrying, op);
        e.attempt = attempt;
        e.exit_code = r.exit_code;
        e.duration = r.duration;
        e.message = r.message;
        e.details = Datum(DatumRecord{{"retry_in", Datum(wait)}});
        hooks_.record(e, {}, false);
        if (hooks_.sync) hooks_.sync();  // seen before the wait, not after it
        if (!cancel.wait_for(std::chrono::nanoseconds(wait.nanos))) continue;
      }
      Event e = event(event_type::operation_failed, op);
      e.attempt = attempt;
      e.exit_code = r.exit_code;
      e.duration = r.duration;
      e.message = r.cancelled || cancel.cancelled() ? (r.message.empty() ? "cancelled" : r.message) : r.message;
      hooks_.record(e, {}, true);
      return false;
    }
  };

  // A fixed pool of `parallel` workers, this thread one of them: each takes the first ready
  // operation, runs it, releases its dependents and takes the next, so that no thread is
  // created per operation and no hand-off to a dispatcher sits between two operations.
  auto can_start = [&] { return !failed && !cancel.cancelled() && !ready.empty(); };
  auto worker = [&] {
    std::unique_lock l(m);
    while (true) {
      if (can_start()) {
        size_t op = ready.top();
        ready.pop();
        states_[op].status = OpStatus::running;
        ++running;
        if (can_start()) cv.notify_one();  // more is ready: wake an idle worker, which wakes the next
        l.unlock();
        bool ok = false;
        try {
          ok = run_op(op);
        } catch (const std::exception& x) {
          // Out of memory (or another failure of the runner itself) while running it: the
          // operation fails, saying why, rather than the runner aborting without a record.
          try {
            Event e = event(event_type::operation_failed, op);
            e.message = std::string("the runner could not go on with this operation: ") + x.what();
            hooks_.record(e, {}, true);
          } catch (const std::exception&) {
          }
        }
        l.lock();
        --running;
        states_[op].status = ok ? OpStatus::succeeded : OpStatus::failed;
        if (!ok) {
          failed = true;
          continue;
        }
        completion_order_.push_back(op);
        for (size_t d : dependents_[op])
          if (--waiting[d] == 0 && states_[d].status == OpStatus::pending && !stopping) ready.push(d);
        if (!can_start() && hooks_.sync) {
          // This worker starts nothing next, so no operation_started of its own makes the
          // success durable: sync now rather than leave it unseen while others run.
          l.unlock();
          hooks_.sync();
          l.lock();
        }
        continue;
      }
      if (running == 0) {  // nothing runs and nothing can start: the run is over
        cv.notify_all();
        return;
      }
      cv.wait(l);
    }
  };

  size_t pending = 0;
  for (const auto& st : states_) pending += st.status == OpStatus::pending;
  const size_t workers = std::max<size_t>(1, std::min(static_cast<size_t>(parallel_), pending));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) {
    // A thread the system refuses (memory, a process limit) means fewer workers, not an abort:
    // the run goes on with those it has, this thread at least.
    try {
      threads.emplace_back(worker);
    } catch (const std::system_error&) {
      break;
    }
  }
  worker();
  for (auto& t : threads) t.join();

  RunSummary s;
  s.reexecuted = reexecuted_;
  for (size_t i = 0; i < n; ++i) {
    if (states_[i].status == OpStatus::pending) {
      states_[i].status = OpStatus::skipped;
      Event e = event(event_type::operation_skipped, i);
      e.message = cancel.cancelled() || cancelled_before ? "workflow cancelled"
                                                         : "an operation failed before this one could start";
      hooks_.record(e, {}, false);
    }
  }
  failed = failed || failed_before;
  const bool cancelled = cancel.cancelled() || cancelled_before;
  const std::string status = cancelled ? "cancelled" : failed ? "failed" : "completed";
  const bool undo = (failed || cancelled) && spec_.settings.rollback_on_failure &&
                    std::any_of(completion_order_.begin(), completion_order_.end(),
                                [&](size_t op) { return states_[op].status == OpStatus::succeeded; });
  if (undo) {
    cause_ = cancelled ? "cancelled" : "failed";
    run_rollback(false);
  }
  finish(s, status, undo, since(t0));
  return s;
}

void Scheduler::finish(RunSummary& s, const std::string& forward_status, bool rolled_back, Duration took) {
  s.total = states_.size();
  for (size_t i = 0; i < states_.size(); ++i) {
    const auto& st = states_[i];
    if (st.status == OpStatus::succeeded) ++s.succeeded;
    else if (st.status == OpStatus::failed) ++s.failed;
    else if (st.status == OpStatus::skipped) ++s.skipped;
    else if (st.status == OpStatus::rolled_back) ++s.rolled_back;
    if (st.undo_failed) s.undo_failed.push_back(spec_.operations[i].id);
  }
  s.status = forward_status;
  if (rolled_back) {
    s.cause = cause_;
    s.status = s.undo_failed.empty() ? "rolled_back" : "rollback_failed";
  }
  s.duration = took;
  // The terminal event's type says how the run went: a rollback keeps its cause's (a failure's
  // workflow_failed, a cancel's workflow_cancelled); a rollback that left steps undone failed.
  const std::string how = rolled_back ? (s.status == "rollback_failed" ? std::string("failed") : s.cause) : s.status;
  Event e = event(how == "completed" || how == "requested" ? event_type::workflow_completed
                  : how == "cancelled"                      ? event_type::workflow_cancelled
                                                            : event_type::workflow_failed);
  if (!s.undo_failed.empty()) {
    std::string list;
    for (const auto& u : s.undo_failed) list += (list.empty() ? "" : ", ") + u;
    e.message = "not rolled back: " + list;
  }
  e.duration = s.duration;
  e.details = s.to_datum();
  hooks_.record(e, {}, true);
}

void Scheduler::run_rollback(bool resumed) {
  if (resumed) {
    Event e = event(event_type::workflow_resumed);
    e.message = "continuing the rollback";
    if (!undo_reexecuted_.empty()) {
      std::string list;
      for (const auto& r : undo_reexecuted_) list += (list.empty() ? "" : ", ") + r;
      e.message = *e.message + "; re-executing undo steps that were in flight: " + list;
    }
    DatumList re;
    for (const auto& r : undo_reexecuted_) re.emplace_back(r);
    e.details = Datum(DatumRecord{{"name", Datum(spec_.name)},
                                  {"total", Datum(static_cast<int64_t>(states_.size()))},
                                  {"phase", Datum("rollback")},
                                  {"cause", Datum(cause_)},
                                  {"reexecuted", Datum(std::move(re))}});
    hooks_.record(e, {}, true);
  } else {
    for (auto& st : states_) st.undo_failed = false;  // a new rollback tries every step again
    Event e = event(event_type::rollback_started);
    e.details = Datum(DatumRecord{{"cause", Datum(cause_)}});
    hooks_.record(e, {}, true);
  }
  for (auto it = completion_order_.rbegin(); it != completion_order_.rend(); ++it) {
    size_t op = *it;
    // A step that failed earlier in this phase is not tried again until a new rollback.
    if (states_[op].status != OpStatus::succeeded || states_[op].undo_failed) continue;
    if (!hooks_.has_rollback(op)) continue;
    // Durable before the undo runs: a crash in it is then known, and the step reported as re-run.
    hooks_.record(event(event_type::rollback_step_started, op), {}, true);
    AttemptResult r = hooks_.rollback(op, states_[op].undo);
    Event e = event(event_type::rollback_step, op);
    e.exit_code = r.exit_code;
    e.duration = r.duration;
    e.message = r.ok ? (r.message.empty() ? "rolled back" : r.message) : "rollback failed: " + r.message;
    e.details = Datum(DatumRecord{{"ok", Datum(r.ok)}});
    hooks_.record(e, {}, true);
    if (r.ok && !r.resource_event.empty()) {
      Event re = event(r.resource_event.c_str(), op);
      re.resource = r.resource;
      hooks_.record(re, {}, false);
    }
    if (r.ok) states_[op].status = OpStatus::rolled_back;
    else states_[op].undo_failed = true;
  }
  DatumList undone;
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i].undo_failed) undone.emplace_back(spec_.operations[i].id);
  Event e = event(event_type::rollback_completed);
  const bool ok = undone.empty();
  if (!ok) {
    std::string list;
    for (const auto& u : undone) list += (list.empty() ? "" : ", ") + u.str();
    e.message = "not rolled back: " + list;
  }
  e.details = Datum(DatumRecord{{"status", Datum(ok ? "rolled_back" : "rollback_failed")},
                                {"cause", Datum(cause_)},
                                {"undo_failed", Datum(std::move(undone))}});
  hooks_.record(e, {}, true);
}

RunSummary Scheduler::rollback_only() {
  auto t0 = std::chrono::steady_clock::now();
  RunSummary s;
  if (phase_ == WorkflowPhase::rollback && !ended_before_) {
    s.reexecuted = undo_reexecuted_;
    run_rollback(true);
  } else {
    // A new rollback on request; a retry after rollback_failed keeps the first one's cause.
    if (phase_ != WorkflowPhase::rollback) cause_ = "requested";
    if (phase_ == WorkflowPhase::run && !ended_before_) {
      // The forward run was interrupted and is rolled back instead of resumed: close it.
      for (size_t i = 0; i < states_.size(); ++i) {
        if (states_[i].status != OpStatus::pending) continue;
        const bool in_flight = std::find(reexecuted_.begin(), reexecuted_.end(), spec_.operations[i].id) !=
                               reexecuted_.end();
        Event e = event(in_flight ? event_type::operation_failed : event_type::operation_skipped, i);
        e.message = in_flight ? "in flight when the runner was killed; rolled back instead of resumed"
                              : "rolled back instead of resumed";
        hooks_.record(e, {}, false);
        states_[i].status = in_flight ? OpStatus::failed : OpStatus::skipped;
      }
    }
    run_rollback(false);
  }
  finish(s, "", true, since(t0));
  return s;
}

}  // namespace prov
