// The scheduler with scripted attempts: the parallel limit, dependency order, retries and
// backoff, cancellation, failure stopping new starts, rollback order, resumption.

#include "core/engine/scheduler.hpp"

#include "core/ops/op_kind.hpp"
#include "core/support/subprocess.hpp"
#include "core/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace prov;
using namespace std::chrono_literals;

namespace {

WorkflowSpec make_spec(std::vector<std::pair<std::string, std::vector<std::string>>> ops, int attempts = 1) {
  WorkflowSpec w;
  w.name = "test";
  w.settings.retry.attempts = attempts;
  w.settings.retry.backoff = Duration{1'000'000};
  w.settings.retry.max_backoff = Duration{4'000'000};
  for (auto& [id, deps] : ops) {
    OperationSpec o;
    o.id = id;
    o.kind = "command";
    o.depends_on = deps;
    w.operations.push_back(o);
  }
  return w;
}

std::vector<std::vector<size_t>> deps_of(const WorkflowSpec& w) {
  std::map<std::string, size_t> idx;
  for (size_t i = 0; i < w.operations.size(); ++i) idx[w.operations[i].id] = i;
  std::vector<std::vector<size_t>> deps(w.operations.size());
  for (size_t i = 0; i < w.operations.size(); ++i)
    for (const auto& d : w.operations[i].depends_on) deps[i].push_back(idx.at(d));
  return deps;
}

std::vector<size_t> identity(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

/// Records every transition; scripted outcomes per operation and attempt.
struct Harness {
  WorkflowSpec spec;
  std::mutex m;
  std::vector<Event> events;
  std::vector<std::string> started_order;
  std::vector<std::string> rollback_order;
  std::set<std::string> fail_always;
  std::map<std::string, int> fail_times;  // fail this many first attempts
  std::set<std::string> fail_permanently;  // fail, saying another attempt cannot help
  std::set<std::string> fail_undo;         // their undo steps fail
  std::atomic<int> running{0}, max_running{0};
  std::chrono::milliseconds work{5ms};

  SchedulerHooks hooks() {
    SchedulerHooks h;
    h.run_attempt = [this](size_t op, int attempt, CancelToken& cancel) {
      const std::string& id = spec.operations[op].id;
      {
        std::lock_guard l(m);
        started_order.push_back(id);
      }
      int now = ++running;
      int prev = max_running.load();
      while (now > prev && !max_running.compare_exchange_weak(prev, now)) {}
      bool cancelled = cancel.wait_for(work);
      --running;
      OpResult r;
      r.cancelled = cancelled;
      bool fails = fail_always.count(id) || fail_permanently.count(id) ||
                   (fail_times.count(id) && attempt <= fail_times[id]);
      r.permanent = fail_permanently.count(id) > 0;
      r.ok = !cancelled && !fails;
      r.exit_code = r.ok ? 0 : 1;
      r.message = r.ok ? "" : (cancelled ? "cancelled" : "exit 1");
      r.undo = Datum(DatumRecord{{"id", Datum(id)}});
      return r;
    };
    h.has_rollback = [](size_t) { return true; };
    h.rollback = [this](size_t op, const Datum& undo) {
      std::lock_guard l(m);
      rollback_order.push_back(spec.operations[op].id);
      CHECK(undo.find("id")->str() == spec.operations[op].id);
      OpResult r;
      r.ok = fail_undo.count(spec.operations[op].id) == 0;
      return r;
    };
    h.record = [this](const Event& e, const Datum&, bool) {
      std::lock_guard l(m);
      events.push_back(e);
    };
    return h;
  }

  std::vector<std::string> of_type(const char* type) {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.type == type && e.operation) out.push_back(*e.operation);
    return out;
  }
};

}  // namespace

TEST_CASE("the parallel limit is never exceeded and every operation runs once", "[scheduler]") {
  std::vector<std::pair<std::string, std::vector<std::string>>> ops;
  for (int i = 0; i < 40; ++i) ops.push_back({"op" + std::to_string(i), {}});
  Harness h;
  h.spec = make_spec(ops);
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(40), h.hooks(), 3, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "completed");
  CHECK(r.succeeded == 40);
  CHECK(h.max_running.load() <= 3);
  CHECK(h.max_running.load() >= 2);
  CHECK(h.started_order.size() == 40);
  CHECK(h.events.front().type == "workflow_started");
  CHECK(h.events.back().type == "workflow_completed");
}

TEST_CASE("an operation starts only after all its dependencies succeeded", "[scheduler]") {
  // a -> {b, c} -> d ; e independent
  Harness h;
  h.spec = make_spec({{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}, {"e", {}}});
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(5), h.hooks(), 4, 1);
  CancelToken c;
  s.run(c);
  auto pos = [&](const std::string& id) {
    auto& v = h.events;
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i].operation == id && v[i].type == "operation_started") return i;
    return v.size();
  };
  auto done = [&](const std::string& id) {
    auto& v = h.events;
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i].operation == id && v[i].type == "operation_succeeded") return i;
    return v.size();
  };
  CHECK(done("a") < pos("b"));
  CHECK(done("a") < pos("c"));
  CHECK(done("b") < pos("d"));
  CHECK(done("c") < pos("d"));
}

TEST_CASE("retries: attempts counted, backoff grows and is capped, jitter stays in range", "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"flaky", {}}}, 4);
  h.fail_times["flaky"] = 2;
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(1), h.hooks(), 1, 7);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "completed");
  CHECK(h.started_order.size() == 3);
  CHECK(h.of_type("operation_retrying").size() == 2);
  CHECK(s.states()[0].attempts == 3);

  RetryPolicy p{6, Duration{100}, Duration{1000}};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    CHECK(Scheduler::backoff_delay(p, 1, rng).nanos >= 50);
    CHECK(Scheduler::backoff_delay(p, 1, rng).nanos <= 100);
    CHECK(Scheduler::backoff_delay(p, 3, rng).nanos >= 200);
    CHECK(Scheduler::backoff_delay(p, 3, rng).nanos <= 400);
    CHECK(Scheduler::backoff_delay(p, 10, rng).nanos <= 1000);
    CHECK(Scheduler::backoff_delay(p, 10, rng).nanos >= 500);
  }
}

TEST_CASE("a permanent failure is not retried, whatever the policy", "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"gone", {}}}, 5);
  h.fail_permanently = {"gone"};
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(1), h.hooks(), 1, 7);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "failed");
  CHECK(h.started_order.size() == 1);
  CHECK(h.of_type("operation_retrying").empty());
  CHECK(s.states()[0].attempts == 1);
}

TEST_CASE("a failure stops new starts, skips the rest and rolls back in reverse completion order",
          "[scheduler]") {
  // a, b, c in a chain; x fails after a and b completed.
  Harness h;
  h.spec = make_spec({{"a", {}}, {"b", {"a"}}, {"x", {"b"}}, {"later", {"x"}}, {"other", {"later"}}});
  h.fail_always = {"x"};
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(5), h.hooks(), 2, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "rolled_back");
  CHECK(r.failed == 1);
  CHECK(r.skipped == 2);
  CHECK(r.rolled_back == 2);
  CHECK(h.rollback_order == std::vector<std::string>{"b", "a"});
  CHECK(h.of_type("operation_skipped") == std::vector<std::string>{"later", "other"});
  CHECK(h.events.back().type == "workflow_failed");
}

TEST_CASE("rollback can be disabled", "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"a", {}}, {"x", {"a"}}});
  h.spec.settings.rollback_on_failure = false;
  h.fail_always = {"x"};
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(2), h.hooks(), 2, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "failed");
  CHECK(h.rollback_order.empty());
}

TEST_CASE("cancellation stops running attempts and new starts", "[scheduler]") {
  std::vector<std::pair<std::string, std::vector<std::string>>> ops;
  for (int i = 0; i < 10; ++i) ops.push_back({"op" + std::to_string(i), {}});
  Harness h;
  h.spec = make_spec(ops);
  h.work = 10s;
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(10), h.hooks(), 2, 1);
  CancelToken c;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    c.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  RunSummary r = s.run(c);
  canceller.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(r.status == "cancelled");
  CHECK(h.started_order.size() == 2);
  CHECK(r.skipped == 8);
  CHECK(h.events.back().type == "workflow_cancelled");
}

TEST_CASE("a restored run does not repeat succeeded operations and reports the re-executed ones",
          "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}});
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(3), h.hooks(), 2, 1);
  auto ev = [](const char* type, std::optional<std::string> op = std::nullopt) {
    Event e;
    e.type = type;
    e.operation = std::move(op);
    if (e.operation) e.attempt = 1;
    return e;
  };
  WorkflowState journaled({"a", "b", "c"});
  journaled.apply(ev(event_type::workflow_started));
  journaled.apply(ev(event_type::operation_started, "a"));
  journaled.apply(ev(event_type::operation_succeeded, "a"), Datum(DatumRecord{{"id", Datum("a")}}));
  journaled.apply(ev(event_type::operation_started, "b"));  // in flight at the crash
  s.restore(journaled);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "completed");
  CHECK(h.started_order == std::vector<std::string>{"b", "c"});
  CHECK(r.reexecuted == std::vector<std::string>{"b"});
  CHECK(h.events.front().type == "workflow_resumed");
  CHECK(h.events.front().message.value_or("").find("b") != std::string::npos);
  // The attempt number goes on from where it was.
  CHECK(s.states()[1].attempts == 2);
}

TEST_CASE("a pool of `parallel` workers runs real processes, never more at once", "[scheduler]") {
  // 120 operations in a chain of layers; each runs a real process and counts the threads.
  std::vector<std::pair<std::string, std::vector<std::string>>> ops;
  for (int i = 0; i < 120; ++i) {
    std::vector<std::string> deps;
    if (i >= 10) deps.push_back("op" + std::to_string(i - 10));
    ops.push_back({"op" + std::to_string(i), deps});
  }
  Harness h;
  h.spec = make_spec(ops);
  std::mutex m;
  std::set<std::thread::id> threads;
  std::atomic<int> running{0}, max_running{0};
  SchedulerHooks hooks = h.hooks();
  hooks.run_attempt = [&](size_t, int, CancelToken& cancel) {
    {
      std::lock_guard l(m);
      threads.insert(std::this_thread::get_id());
    }
    int now = ++running;
    int prev = max_running.load();
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {}
    SubprocessOptions o;
    o.argv = {"sh", "-c", "sleep 0.002"};
    SubprocessResult p = run_subprocess(o, {Duration{0}, &cancel});
    --running;
    OpResult r;
    r.ok = p.exit_code == 0;
    r.exit_code = p.exit_code;
    return r;
  };
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(120), hooks, 4, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "completed");
  CHECK(r.succeeded == 120);
  CHECK(max_running.load() <= 4);
  CHECK(max_running.load() >= 2);
  CHECK(threads.size() <= 4);  // a fixed pool, not a thread per operation
}

TEST_CASE("a success is made durable before anything depends on it, or synced", "[scheduler]") {
  // a is quick, b slow and independent: nothing starts after a, so its worker must sync
  // rather than leave a's success unseen until b ends. c depends on a in the second case.
  for (bool with_dependent : {false, true}) {
    Harness h;
    if (with_dependent)
      h.spec = make_spec({{"a", {}}, {"b", {}}, {"c", {"a"}}});
    else
      h.spec = make_spec({{"a", {}}, {"b", {}}});
    std::vector<std::string> log;  // "record <type> <op> <durable>" and "sync", in order
    SchedulerHooks hooks = h.hooks();
    auto inner = hooks.record;
    hooks.record = [&](const Event& e, const Datum& undo, bool durable) {
      inner(e, undo, durable);
      std::lock_guard l(h.m);
      log.push_back(e.type + " " + e.operation.value_or("") + (durable ? " durable" : ""));
    };
    hooks.sync = [&] {
      std::lock_guard l(h.m);
      log.push_back("sync");
    };
    auto run = hooks.run_attempt;
    hooks.run_attempt = [&](size_t op, int attempt, CancelToken& cancel) {
      {
        std::lock_guard l(h.m);
        log.push_back("run " + h.spec.operations[op].id);
      }
      if (h.spec.operations[op].id == "b") std::this_thread::sleep_for(200ms);
      return run(op, attempt, cancel);
    };
    Scheduler s(h.spec, "wf", deps_of(h.spec), identity(h.spec.operations.size()), hooks, 2, 1);
    CancelToken c;
    REQUIRE(s.run(c).status == "completed");
    INFO(Catch::Detail::stringify(log));
    auto at = [&](const std::string& entry) {
      return std::find(log.begin(), log.end(), entry) - log.begin();
    };
    const auto a_done = at("operation_succeeded a");
    REQUIRE(a_done < static_cast<long>(log.size()));
    // What follows a's success first: a durable record (c's start) or a sync, before b ends.
    long next_durable = a_done + 1;
    while (next_durable < static_cast<long>(log.size()) && log[next_durable] != "sync" &&
           log[next_durable].find(" durable") == std::string::npos)
      ++next_durable;
    CHECK(next_durable < at("operation_succeeded b"));
    if (with_dependent) {
      // c's start is durable (a durable record or a sync after it) before c runs.
      const auto c_started = std::find_if(log.begin(), log.end(),
                                          [](const std::string& l) { return l.rfind("operation_started c", 0) == 0; }) -
                             log.begin();
      REQUIRE(c_started < at("run c"));
      CHECK(c_started > a_done);
      bool durable = log[c_started].find(" durable") != std::string::npos;
      for (auto k = c_started + 1; k < at("run c") && !durable; ++k)
        durable = log[k] == "sync" || log[k].find(" durable") != std::string::npos;
      CHECK(durable);
    }
  }
}

namespace {
WorkflowState fold_of(const Harness& h) {
  std::vector<std::string> ids;
  for (const auto& o : h.spec.operations) ids.push_back(o.id);
  std::vector<Datum> undo;
  for (const auto& e : h.events)
    undo.push_back(e.type == event_type::operation_succeeded ? Datum(DatumRecord{{"id", Datum(*e.operation)}}) : Datum());
  return fold_events(ids, h.events, undo);
}
}  // namespace

TEST_CASE("a failed undo step ends in rollback_failed naming it; a new rollback retries only it", "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"a", {}}, {"b", {"a"}}, {"x", {"b"}}});
  h.fail_always = {"x"};
  h.fail_undo = {"b"};
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(3), h.hooks(), 1, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "rollback_failed");
  CHECK(r.cause == "failed");
  CHECK(r.undo_failed == std::vector<std::string>{"b"});
  CHECK(r.rolled_back == 1);
  CHECK(h.rollback_order == std::vector<std::string>{"b", "a"});
  CHECK(h.events.back().type == "workflow_failed");
  CHECK(h.events.back().details->find("status")->str() == "rollback_failed");
  CHECK(fold_of(h).outcome() == "rollback_failed");

  h.fail_undo.clear();
  h.rollback_order.clear();
  Scheduler retry(h.spec, "wf", deps_of(h.spec), identity(3), h.hooks(), 1, 1);
  retry.restore(fold_of(h));
  RunSummary again = retry.rollback_only();
  CHECK(h.rollback_order == std::vector<std::string>{"b"});
  CHECK(again.status == "rolled_back");
  CHECK(again.cause == "failed");  // a retry keeps the first rollback's cause
  CHECK(fold_of(h).outcome() == "rolled_back");
  CHECK(fold_of(h).counts().rolled_back == 2);
}

TEST_CASE("a cancel rolls back: rolled_back, its cause cancelled, ending in workflow_cancelled", "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"a", {}}, {"long", {"a"}}});
  h.work = 10s;
  SchedulerHooks hooks = h.hooks();
  auto run = hooks.run_attempt;
  CancelToken c;
  hooks.run_attempt = [&](size_t op, int attempt, CancelToken& cancel) {
    if (h.spec.operations[op].id == "a") {  // quick
      OpResult r;
      r.ok = true;
      r.undo = Datum(DatumRecord{{"id", Datum("a")}});
      return r;
    }
    c.cancel();
    return run(op, attempt, cancel);
  };
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(2), hooks, 1, 1);
  RunSummary r = s.run(c);
  CHECK(r.status == "rolled_back");
  CHECK(r.cause == "cancelled");
  CHECK(h.rollback_order == std::vector<std::string>{"a"});
  CHECK(h.events.back().type == "workflow_cancelled");
}

TEST_CASE("restored in a rollback, it goes on with the rollback: the step in flight again, reported; nothing runs",
          "[scheduler]") {
  Harness h;
  h.spec = make_spec({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"x", {"c"}}});
  h.fail_always = {"x"};
  // The first runner: killed as the undo step of b begins (after c's undo).
  SchedulerHooks hooks = h.hooks();
  auto record = hooks.record;
  struct Killed {};
  hooks.record = [&](const Event& e, const Datum& u, bool d) {
    record(e, u, d);
    if (e.type == event_type::rollback_step_started && e.operation == "b") throw Killed{};
  };
  Scheduler first(h.spec, "wf", deps_of(h.spec), identity(4), hooks, 1, 1);
  CancelToken c;
  CHECK_THROWS_AS(first.run(c), Killed);
  const WorkflowState journaled = fold_of(h);
  REQUIRE(journaled.phase() == WorkflowPhase::rollback);
  REQUIRE_FALSE(journaled.ended());
  CHECK(journaled.undo_in_flight() == std::vector<std::string>{"b"});

  h.rollback_order.clear();
  h.started_order.clear();
  Scheduler resumed(h.spec, "wf", deps_of(h.spec), identity(4), h.hooks(), 1, 1);
  resumed.restore(journaled);
  RunSummary r = resumed.rollback_only();
  CHECK(h.started_order.empty());
  CHECK(h.rollback_order == std::vector<std::string>{"b", "a"});  // c was undone before the crash
  CHECK(r.reexecuted == std::vector<std::string>{"b"});
  CHECK(r.status == "rolled_back");
  CHECK(r.cause == "failed");
  CHECK(r.rolled_back == 3);
  CHECK(h.events.back().type == "workflow_failed");
  const auto resumed_event = std::find_if(h.events.begin(), h.events.end(), [](const Event& e) {
    return e.type == event_type::workflow_resumed;
  });
  REQUIRE(resumed_event != h.events.end());
  CHECK(resumed_event->details->find("phase")->str() == "rollback");
  CHECK(resumed_event->message.value_or("").find("b") != std::string::npos);
}

namespace {
/// Hooks whose attempts are `command` operations started through OpKind::start: processes the
/// scheduler's loop drives, not blocking calls.
struct ProcessHarness {
  WorkflowSpec spec;
  std::vector<Event> events;
  std::mutex m;
  std::set<std::thread::id> starters;  ///< threads that started attempts
  Duration timeout{0};
  TempDir logs;

  SchedulerHooks hooks() {
    SchedulerHooks h;
    h.start_attempt = [this](size_t op, int, CancelToken& cancel) {
      {
        std::lock_guard l(m);
        starters.insert(std::this_thread::get_id());
      }
      OpContext ctx;
      ctx.cancel = &cancel;
      ctx.timeout = timeout;
      ctx.kill_grace = Duration{200'000'000};
      ctx.log_path = logs.path() + "/" + spec.operations[op].id + ".log";
      return find_kind("command")->start(spec.operations[op], ctx);
    };
    h.run_attempt = [](size_t, int, CancelToken&) -> OpResult {
      FAIL("a process kind went to the pool");
      return {};
    };
    h.has_rollback = [](size_t) { return false; };
    h.rollback = [](size_t, const Datum&) { return OpResult{}; };
    h.record = [this](const Event& e, const Datum&, bool) { events.push_back(e); };
    return h;
  }
};

WorkflowSpec command_spec(int n, const std::vector<std::string>& argv, int chain = 0) {
  WorkflowSpec w;
  w.name = "procs";
  w.settings.retry.attempts = 1;
  DatumList run;
  for (const auto& a : argv) run.emplace_back(a);
  for (int i = 0; i < n; ++i) {
    OperationSpec o;
    o.id = "op" + std::to_string(i);
    o.kind = "command";
    if (chain && i >= chain) o.depends_on.push_back("op" + std::to_string(i - chain));
    o.fields = Datum(DatumRecord{{"id", Datum(o.id)}, {"kind", Datum(o.kind)}, {"run", Datum(run)}});
    w.operations.push_back(o);
  }
  return w;
}
}  // namespace

TEST_CASE("processes are started on a bounded pool and waited for in one loop, never more than `parallel`",
          "[scheduler]") {
  ProcessHarness h;
  h.spec = command_spec(60, {"sh", "-c", "sleep 0.01"}, 6);
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(60), h.hooks(), 4, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "completed");
  CHECK(r.succeeded == 60);
  CHECK(h.starters.size() <= 4);  // a bounded pool, not a thread per operation
  CHECK(h.starters.count(std::this_thread::get_id()) == 0);
  // Never more than 4 at once: between a start and its end, count.
  int now = 0, most = 0;
  for (const auto& e : h.events) {
    if (e.type == event_type::operation_started) most = std::max(most, ++now);
    if (e.type == event_type::operation_succeeded) --now;
  }
  CHECK(most <= 4);
  CHECK(most >= 2);
}

TEST_CASE("the loop stops processes on timeout and on cancel, and reports their output", "[scheduler]") {
  SECTION("timeout") {
    ProcessHarness h;
    h.spec = command_spec(2, {"sh", "-c", "echo about to hang; sleep 30"});
    h.timeout = Duration{300'000'000};
    Scheduler s(h.spec, "wf", deps_of(h.spec), identity(2), h.hooks(), 2, 1);
    CancelToken c;
    const auto t0 = std::chrono::steady_clock::now();
    RunSummary r = s.run(c);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(r.status == "failed");
    CHECK(r.failed == 2);
    REQUIRE(r.failures.size() == 2);
    CHECK(r.failures[0].second.find("timed out") != std::string::npos);
    for (const auto& e : h.events)
      if (e.type == event_type::operation_failed) {
        REQUIRE(e.details);
        CHECK(e.details->find("output")->str() == "about to hang");
      }
  }
  SECTION("cancel") {
    ProcessHarness h;
    h.spec = command_spec(3, {"sleep", "30"});
    Scheduler s(h.spec, "wf", deps_of(h.spec), identity(3), h.hooks(), 2, 1);
    CancelToken c;
    std::thread canceller([&] {
      std::this_thread::sleep_for(200ms);
      c.cancel();
    });
    const auto t0 = std::chrono::steady_clock::now();
    RunSummary r = s.run(c);
    canceller.join();
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(r.status == "cancelled");
    CHECK(r.failed == 2);
    CHECK(r.skipped == 1);
  }
}

TEST_CASE("an attempt that cannot start fails at once, and the loop goes on", "[scheduler]") {
  ProcessHarness h;
  h.spec = command_spec(3, {"/nonexistent/program"});
  Scheduler s(h.spec, "wf", deps_of(h.spec), identity(3), h.hooks(), 2, 1);
  CancelToken c;
  RunSummary r = s.run(c);
  CHECK(r.status == "failed");
  REQUIRE(r.failures.size() >= 1);
  CHECK(r.failures[0].second.find("cannot start /nonexistent/program") != std::string::npos);
}
