#include "core/engine/workflow_runner.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "core/engine/workflow_record.hpp"
#include "core/events/event_log.hpp"
#include "core/state/file_store.hpp"
#include "core/state/journal.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

/// A workflow of `n` `true` commands, two at a time (run in this process's environment).
WorkflowSubmission true_commands(const std::string& workspace, int n) {
  WorkflowSubmission sub;
  sub.workspace = workspace;
  sub.origin = "test";
  DatumList ops;
  for (int i = 0; i < n; ++i)
    ops.emplace_back(DatumRecord{
        {"id", Datum("op" + std::to_string(i))}, {"kind", Datum("command")}, {"run", Datum(DatumList{Datum("true")})}});
  sub.document = Datum(DatumRecord{{"name", Datum("t")},
                                   {"settings", Datum(DatumRecord{{"parallel", Datum(int64_t{2})}})},
                                   {"operations", Datum(std::move(ops))}});
  return sub;
}

/// run_workflow in a child process whose files cannot grow past `max_file_bytes` (0: no
/// limit), as a full disk would refuse them; returns its exit code.
int run_in_child(WorkflowStore& store, const std::string& workspace, const std::string& id, RunnerMode mode,
                 rlim_t max_file_bytes) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (max_file_bytes) {
      struct rlimit rl {
        max_file_bytes, max_file_bytes
      };
      ::setrlimit(RLIMIT_FSIZE, &rl);
      ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    }
    block_runner_signals();
    ::_exit(run_workflow(store, workspace, id, mode));
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("runner: a journal that cannot be written stops the run; nothing unjournaled is reported; resume ends it",
          "[runner]") {
  TempDir ws("prov-runner");
  FileStore store(ws / ".provisioning", ws.path());
  const StateDir& state = store.state_dir();
  const int n = 40;
  const std::string id = create_workflow(store, true_commands(ws.path(), n));
  struct stat st {};
  REQUIRE(::stat(state.journal_path(id).c_str(), &st) == 0);

  // Room for a few records only: the journal fails part-way through the run.
  CHECK(run_in_child(store, ws.path(), id, RunnerMode::run, static_cast<rlim_t>(st.st_size) + 3000) == 1);
  const Journal::Recovery journal = Journal::read(state.journal_path(id));
  CHECK_FALSE(journal.tail_damaged);  // the failed record was taken back whole
  const WorkflowStatus stopped = workflow_status(store, id);
  CHECK(stopped.status == "interrupted");
  CHECK(stopped.succeeded < static_cast<size_t>(n));
  // What the event log shows is journaled: it never runs ahead of the journal.
  const WorkflowHistory h = read_history(store, id);
  std::multiset<std::string> journaled, logged;
  for (const auto& e : h.events) journaled.insert(e.type + " " + e.operation.value_or(""));
  for (const auto& e : read_event_log(state.events_path(id))) logged.insert(e.type + " " + e.operation.value_or(""));
  for (const auto& line : logged) CHECK(journaled.count(line) >= logged.count(line));

  CHECK(run_in_child(store, ws.path(), id, RunnerMode::resume, 0) == 0);
  const WorkflowStatus done = workflow_status(store, id);
  CHECK(done.status == "completed");
  CHECK(done.succeeded == static_cast<size_t>(n));
}

TEST_CASE("runner: resume reports as in flight only what the last run started and did not finish", "[runner]") {
  TempDir ws("prov-runner");
  FileStore store(ws / ".provisioning", ws.path());
  const StateDir& state = store.state_dir();
  const std::string id = create_workflow(store, true_commands(ws.path(), 3));
  auto event = [&](const char* type, std::optional<std::string> op, DatumList reexecuted = {}) {
    Event e;
    e.time = now_utc();
    e.workflow_id = id;
    e.type = type;
    e.operation = std::move(op);
    if (std::string(type) == event_type::workflow_resumed)
      e.details = Datum(DatumRecord{{"reexecuted", Datum(std::move(reexecuted))}});
    return journal_record(e, {});
  };
  {
    // Run 1 started op0 and op1 and was killed; run 2 reported them, restarted op1 only and was
    // killed too: op1 was in flight at the second crash, op0 was not (it had not restarted).
    Journal::Opened j = Journal::open_for_append(state.journal_path(id));
    j.journal.append(event(event_type::workflow_started, std::nullopt));
    j.journal.append(event(event_type::operation_started, "op0"));
    j.journal.append(event(event_type::operation_started, "op1"));
    j.journal.append(event(event_type::workflow_resumed, std::nullopt, {Datum("op0"), Datum("op1")}));
    j.journal.append(event(event_type::operation_started, "op1"));
    j.journal.sync();
  }
  CHECK(run_in_child(store, ws.path(), id, RunnerMode::resume, 0) == 0);
  const WorkflowHistory h = read_history(store, id);
  std::vector<std::string> reported;
  for (const auto& e : h.events)
    if (e.type == event_type::workflow_resumed && e.details)
      for (const auto& r : e.details->find("reexecuted")->list()) reported.push_back(r.str());
  CHECK(reported == std::vector<std::string>{"op0", "op1", "op1"});  // the third run: op1 only
  CHECK(workflow_status(store, id).status == "completed");
}
