#include "core/engine/scheduler.hpp"
#include "core/support/duration.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <queue>
#include <system_error>
#include <utility>

#include "core/engine/call_pool.hpp"

namespace prov {

Datum RunSummary::to_datum() const {
  DatumList re, undo, failed_ops;
  for (const auto& r : reexecuted) re.emplace_back(r);
  for (const auto& u : undo_failed) undo.emplace_back(u);
  for (const auto& [op, why] : failures)
    failed_ops.emplace_back(DatumRecord{{"operation", Datum(op)}, {"message", Datum(why)}});
  return Datum(DatumRecord{{"status", Datum(status)},
                           {"cause", cause.empty() ? Datum() : Datum(cause)},
                           {"total", Datum(static_cast<int64_t>(total))},
                           {"succeeded", Datum(static_cast<int64_t>(succeeded))},
                           {"failed", Datum(static_cast<int64_t>(failed))},
                           {"skipped", Datum(static_cast<int64_t>(skipped))},
                           {"rolled_back", Datum(static_cast<int64_t>(rolled_back))},
                           {"duration", Datum(to_millis(duration))},
                           {"reexecuted", Datum(std::move(re))},
                           {"undo_failed", Datum(std::move(undo))},
                           {"failed_operations", Datum(std::move(failed_ops))}});
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

Event Scheduler::attempt_event(const char* type, size_t op, int attempt, const OpResult& r) const {
  Event e = event(type, op);
  e.attempt = attempt;
  e.exit_code = r.exit_code;
  e.duration = r.duration;
  if (!r.message.empty()) e.message = r.message;
  return e;
}

RunSummary Scheduler::run(CancelToken& cancel) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  const size_t n = spec_.operations.size();
  failure_message_.assign(n, "");
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

  // One thread waits on everything in one ppoll (as ninja's SubprocessSet::DoWork): the
  // processes of the attempts under way (pidfds, output pipes), the cancel token's eventfd,
  // the pool of blocking calls' eventfd, and a timeout from the nearest timer (a retry's
  // backoff, a process's timeout or kill grace). No thread per operation, no periodic wake-up.
  struct Active {
    int first = 1;                              ///< this run's first attempt (numbering goes on across runs)
    int attempt = 1;                            ///< the attempt under way, or the next one while waiting to retry
    std::unique_ptr<RunningOp> running;         ///< a process the loop drives; null: on the pool or waiting
    std::optional<Clock::time_point> retry_at;  ///< waiting to retry until then
    OpResult last;                              ///< the failed attempt a retry waits after
  };
  std::map<size_t, Active> active;                ///< operations holding one of the `parallel` places
  std::vector<std::pair<size_t, OpResult>> done;  ///< results not yet settled
  CallPool pool(static_cast<size_t>(parallel_));
  bool dirty = false;  ///< recorded without durability since the last durable record or sync
  auto record = [&](const Event& e, const Datum& undo, bool durable) {
    hooks_.record(e, undo, durable);
    dirty = !durable;
  };
  auto fail_op = [&](size_t op, const Active& a, const OpResult& r) {
    Event e = attempt_event(event_type::operation_failed, op, a.attempt, r);
    e.message = r.cancelled || cancel.cancelled() ? (r.message.empty() ? "cancelled" : r.message) : r.message;
    if (!r.output_tail.empty()) e.details = Datum(DatumRecord{{"output", Datum(r.output_tail)}});
    failure_message_[op] = e.message.value_or("failed");
    record(e, {}, true);
    states_[op].status = OpStatus::failed;
    failed = true;
  };
  // An attempt ended: the operation succeeded, waits to retry, or failed.
  auto settle = [&](size_t op, OpResult r) {
    auto it = active.find(op);
    Active& a = it->second;
    states_[op].attempts = a.attempt;
    a.running.reset();
    if (r.ok) {
      // Not durable yet: whatever depends on it is recorded durably after it (a dependent's
      // operation_started, the rollback, the workflow's end), and one fdatasync covers both.
      // A pass of the loop that starts nothing syncs (below), so it is never left unseen.
      Event done = attempt_event(event_type::operation_succeeded, op, a.attempt, r);
      if (!r.out.is_null()) done.details = Datum(DatumRecord{{"out", r.out}});
      record(done, r.undo, false);
      if (!r.resource_event.empty()) {
        Event re = event(r.resource_event.c_str(), op);
        re.resource = r.resource;
        record(re, {}, false);
      }
      states_[op].undo = std::move(r.undo);
      states_[op].out = std::move(r.out);
      states_[op].exit_code = r.exit_code;
      states_[op].status = OpStatus::succeeded;
      completion_order_.push_back(op);
      for (size_t d : dependents_[op])
        if (--waiting[d] == 0 && states_[d].status == OpStatus::pending && !stopping) ready.push(d);
      active.erase(it);
      return;
    }
    // Each run (a resume too) gets the policy's attempts.
    const RetryPolicy& policy = retry_for(op);
    const bool last = r.permanent || a.attempt - a.first + 1 >= policy.attempts;
    if (!r.cancelled && !cancel.cancelled() && !last) {
      const Duration wait = backoff_delay(policy, a.attempt - a.first + 1, rng_);
      Event e = attempt_event(event_type::operation_retrying, op, a.attempt, r);
      e.message = r.message;
      e.details = Datum(DatumRecord{{"retry_in", Datum(wait)}});
      record(e, {}, false);  // seen before the wait: the pass ends with a sync
      a.retry_at = Clock::now() + std::chrono::nanoseconds(wait.nanos);
      a.last = std::move(r);
      return;
    }
    fail_op(op, a, r);
    active.erase(it);
  };
  // Starting is a blocking call (posix_spawn waits for the child's exec), so it runs on the
  // pool, several at once; a process it starts comes back to this loop, which drives it to its
  // end. In-process kinds run there to their end.
  auto launch = [&](size_t op, Active& a) {
    pool.submit(op, [this, op, attempt = a.attempt, &cancel] {
      CallOutcome o;
      if (hooks_.start_attempt) o.running = hooks_.start_attempt(op, attempt, cancel);
      if (!o.running) o.result = hooks_.run_attempt(op, attempt, cancel);
      return o;
    });
  };
  // The sync on the pool: the starts it makes durable, and those waiting for the next one.
  constexpr size_t kSyncTag = SIZE_MAX;
  std::vector<size_t> syncing, unsynced;
  bool sync_running = false;
  auto request_sync = [&] {
    if (sync_running) return;
    syncing.swap(unsynced);
    sync_running = true;
    dirty = false;
    pool.submit(kSyncTag, [this] {
      hooks_.sync();
      return CallOutcome{};
    });
  };
  bool cancel_seen = false;
  const int cancel_fd = cancel.wake_fd();
  std::vector<pollfd> fds;
  std::vector<std::pair<size_t, size_t>> spans;  ///< per running op: its first fd and how many
  std::vector<size_t> starting;
  // A process the pool started after the cancel was seen: step it in the next pass, which
  // stops it, rather than wait for its end (the cancel's wake has been taken already).
  bool adopted_in_cancel = false;
  while (true) {
    for (auto& [op, r] : done) settle(op, std::move(r));
    done.clear();
    const auto now = Clock::now();
    starting.clear();
    for (auto& [op, a] : active) {
      if (!a.retry_at) continue;
      if (cancel.cancelled()) {  // the wait ends: the last attempt's failure stands
        fail_op(op, a, a.last);
        a.retry_at.reset();
        a.attempt = -1;  // settled: removed below
      } else if (*a.retry_at <= now) {
        a.retry_at.reset();
        ++a.attempt;
        starting.push_back(op);
      }
    }
    std::erase_if(active, [](const auto& kv) { return kv.second.attempt < 0; });
    while (!failed && !cancel.cancelled() && !ready.empty() && active.size() < static_cast<size_t>(parallel_)) {
      const size_t op = ready.top();
      ready.pop();
      states_[op].status = OpStatus::running;
      Active& a = active[op];
      a.first = a.attempt = states_[op].attempts + 1;
      starting.push_back(op);
    }
    // Every start is journaled durably before its process starts. The fdatasync runs on the
    // pool, off this loop, which goes on reaping meanwhile; the starts recorded while one runs
    // wait for the next, so that one fdatasync covers them all (and the successes before them).
    for (size_t op : starting) {
      Event e = event(event_type::operation_started, op);
      e.attempt = active[op].attempt;
      if (!hooks_.sync) {  // no sync of its own: each record is made durable as it goes
        record(e, {}, true);
        launch(op, active[op]);
        continue;
      }
      record(e, {}, false);
      unsynced.push_back(op);
    }
    if (dirty && hooks_.sync) request_sync();  // what was recorded is made durable and seen
    if (active.empty() && done.empty()) break;

    fds.clear();
    spans.clear();
    const bool watch_cancel = !cancel_seen && cancel_fd >= 0;
    if (watch_cancel) fds.push_back({cancel_fd, POLLIN, 0});
    if (pool.wake_fd() >= 0) fds.push_back({pool.wake_fd(), POLLIN, 0});
    std::optional<Clock::time_point> wake;
    auto sooner = [&](std::optional<Clock::time_point> t) {
      if (t && (!wake || *t < *wake)) wake = t;
    };
    for (auto& [op, a] : active) {
      sooner(a.retry_at);
      if (!a.running) continue;
      const size_t first = fds.size();
      a.running->poll_fds(fds);
      spans.emplace_back(first, fds.size() - first);
      sooner(a.running->wake_at());
    }
    if (pool.wake_fd() < 0 || (cancel_fd < 0 && !cancel_seen))  // nothing to wake the loop: look often
      sooner(Clock::now() + std::chrono::milliseconds(10));
    if (!done.empty() || std::exchange(adopted_in_cancel, false)) wake = Clock::time_point::min();
    timespec ts{};
    const timespec* timeout = nullptr;
    if (wake) {
      const auto at_poll = Clock::now();  // (wake may be time_point::min(): no subtraction then)
      const auto left = *wake <= at_poll ? std::chrono::nanoseconds(0) : std::chrono::nanoseconds(*wake - at_poll);
      ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      timeout = &ts;
    }
    const int ready_fds = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
    if (ready_fds < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "the scheduler cannot wait (ppoll)");
    if (watch_cancel && fds[0].revents) cancel_seen = true;
    // Step what has something to do: a descriptor ready, its time come, or a cancel to act on.
    const auto after = Clock::now();
    size_t k = 0;
    const bool cancelling = cancel.cancelled();
    for (auto& [op, a] : active) {
      if (!a.running) continue;
      const auto [first, count] = spans[k++];
      bool due = cancelling;
      for (size_t f = first; f < first + count && !due; ++f) due = fds[f].revents != 0;
      if (!due) {
        const auto at = a.running->wake_at();
        due = at && *at <= after;
      }
      if (!due) continue;
      if (std::optional<OpResult> r = a.running->step()) done.emplace_back(op, std::move(*r));
    }
    // After the steps: a sync that ended launches processes the steps above did not poll for.
    for (auto& [tag, r] : pool.take()) {
      if (tag != kSyncTag) {
        if (r.running) {
          active[tag].running = std::move(r.running);  // polled from the next pass
          adopted_in_cancel = adopted_in_cancel || cancel.cancelled();
        } else
          done.emplace_back(tag, std::move(r.result));
        continue;
      }
      sync_running = false;
      for (size_t op : syncing) launch(op, active[op]);
      syncing.clear();
      if (dirty || !unsynced.empty()) request_sync();
    }
  }

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
    if (st.status == OpStatus::failed)
      s.failures.emplace_back(spec_.operations[i].id, i < failure_message_.size() && !failure_message_[i].empty()
                                                          ? failure_message_[i]
                                                          : "failed in an earlier run");
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
  } else if (!s.failures.empty() && e.type == event_type::workflow_failed) {
    std::string list;
    for (const auto& [op, why] : s.failures) list += (list.empty() ? "" : "; ") + op + ": " + why;
    e.message = "failed: " + list;
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
    OpResult r = hooks_.rollback(op, states_[op].undo);
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
