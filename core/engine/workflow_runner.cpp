#include "core/engine/workflow_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "core/engine/checkpoint.hpp"
#include "core/engine/scheduler.hpp"
#include "core/engine/workflow_state.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/ops/op_kind.hpp"
#include "core/state/file_io.hpp"
#include "core/state/journal.hpp"
#include "core/state/open_store.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/config/config.hpp"
#include "core/providers/catalog.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/process_record.hpp"
#include "core/support/ready_line.hpp"
#include "core/support/redact.hpp"

namespace prov {

const char* to_string(RunnerMode m) {
  switch (m) {
    case RunnerMode::run: return "run";
    case RunnerMode::resume: return "resume";
    case RunnerMode::rollback: return "rollback";
  }
  return "run";
}

std::optional<RunnerMode> runner_mode_from(std::string_view text) {
  if (text == "run") return RunnerMode::run;
  if (text == "resume") return RunnerMode::resume;
  if (text == "rollback") return RunnerMode::rollback;
  return std::nullopt;
}

namespace {

/// What the journal says each operation reached, for resuming or rolling back.
WorkflowState restore(const WorkflowSpec& spec, const WorkflowHistory& h) {
  std::vector<std::string> ids;
  ids.reserve(spec.operations.size());
  for (const auto& o : spec.operations) ids.push_back(o.id);
  return fold_events(ids, h.events, h.undo);
}

/// Publishes the events journaled beyond those in the event log at `log_path`: a runner
/// killed between journaling an event and publishing it left them out, and the journal is the
/// truth. The log holds a prefix of the journal's events in order, except once a checkpoint
/// has folded them (the run had ended, publishing everything first).
void publish_unlogged(EventAppender& log, size_t logged, const std::vector<Datum>& records,
                      const std::vector<Event>& journaled) {
  if (std::any_of(records.begin(), records.end(), is_checkpoint)) return;
  std::string lines;
  for (size_t k = logged; k < journaled.size(); ++k) {
    lines += encode_json(journaled[k].to_datum());
    lines += '\n';
  }
  if (!lines.empty()) log.append_lines(lines);
}

/// Turns SIGTERM, SIGINT and SIGHUP into a cancel; they must be blocked in every thread first.
/// The watching thread outlives the run (it is never joined), so it shares the token. When no
/// thread can be started for that (memory, a process limit), the signals are let through
/// instead: they end the runner, and the workflow stays interrupted, to be resumed.
void watch_signals(std::shared_ptr<CancelToken> cancel) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  try {
    std::thread([cancel, set] {
      int sig = 0;
      while (sigwait(&set, &sig) == 0) cancel->cancel();
    }).detach();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "nu_plugin_provisioning runner: no thread for signals (%s); they end the runner\n", e.what());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
}

}  // namespace

int run_workflow(WorkflowStore& store, const std::string& workspace, const std::string& id, RunnerMode mode,
                 int ready_fd) {
  ReadyLine launcher(ready_fd);
  try {
    std::unique_ptr<WorkflowClaim> claim = store.claim(id, std::chrono::seconds(5));
    OpenedJournal opened = store.open_journal(*claim, Journal::TailRepair::truncate);
    JournalWriter& journal = *opened.writer;
    WorkflowHistory history = history_from(opened.recovery.header, opened.recovery.records);
    const WorkflowSubmission& sub = history.submission;
    // The session's environment came as this process's own; --env as the journal says.
    Environment env = current_environment();
    if (!sub.provisioning_env.empty()) env["PROVISIONING_ENV"] = sub.provisioning_env;
    // The configuration of the command that submitted the workflow, resumed or not. Journals
    // older than that snapshot have none: the workspace's files then, as they are now.
    Datum config = submission_config(store, sub);
    if (config.is_null()) {
      ConfigRequest request;
      request.cwd = workspace;
      request.workspace_flag = workspace;
      request.env = env;
      config = load_config(request).all();
    }
    Dag dag;
    WorkflowSpec spec = parse_workflow(sub.document, sub.origin, &dag, workspace_settings(config));
    Plan plan = make_plan(spec, dag);
    const WorkflowState restored = restore(spec, history);

    if (mode == RunnerMode::run && !history.events.empty())
      throw WorkflowError("provisioning::workflow::already_started", "workflow " + id + " has already run",
                          "use `prov workflow resume " + id + "` to continue it");
    if (mode == RunnerMode::resume && restored.ended())
      throw WorkflowError("provisioning::workflow::already_ended", "workflow " + id + " has already ended",
                          "`prov workflow status " + id + "` shows how it ended");

    // Nothing in the workflow's folder is followed through a link: checked here, then its
    // folders are held open and used through their descriptors.
    store.check_workflow_files(id);
    const LocalFiles local = store.local_files(id);
    const auto& workflow_dir = local.folder;
    const auto& running_dir = local.running;
    const auto& logs_dir = local.logs;
    // What a killed runner left running is stopped before anything runs again.
    const std::vector<std::string> leftovers = stop_recorded_processes(running_dir->fd(), std::chrono::seconds(5));
    if (!leftovers.empty()) {
      std::string list;
      for (const auto& n : leftovers) list += (list.empty() ? "" : ", ") + n;
      std::fprintf(stderr, "stopped the processes that a killed runner left running: %s\n", list.c_str());
    }
    const std::unique_ptr<EventAppender> log_writer = store.open_event_log(*claim);
    EventAppender& log = *log_writer;
    publish_unlogged(log, store.read_events(id).size(), opened.recovery.records, history.events);
    std::mutex journal_mutex;
    SchedulerHooks hooks;
    const auto cancel_token = std::make_shared<CancelToken>();
    CancelToken& cancel = *cancel_token;
    watch_signals(cancel_token);

    // Built once: every operation's processes share its envp block and program lookups.
    const auto base_env = std::make_shared<const ChildEnv>(env);
    const std::vector<std::string> patterns = secret_patterns(config);
    // The workspace's providers for server.* operations, found on first use.
    std::once_flag catalog_once;
    std::optional<ProviderCatalog> catalog;
    auto open_provider = [&](const std::string& name) -> std::unique_ptr<Provider> {
      std::call_once(catalog_once, [&] {
        catalog = ProviderCatalog::discover(config, workspace);
      });
      ProviderContext pctx;
      pctx.workspace = workspace;
      pctx.state_dir = store.local_path();
      pctx.env = env;
      pctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
      pctx.cancel = &cancel;
      // An operation that names no provider has the workspace's default.
      return prov::open_provider(catalog->require(name.empty() ? catalog->default_name() : name), pctx,
                                 self_executable());
    };
    auto context = [&](size_t op) {
      OpContext ctx;
      ctx.workspace = workspace;
      ctx.log_path = store.operation_log_path(id, spec.operations[op].id);
      ctx.log_dir = logs_dir;
      ctx.base_env = base_env;
      ctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
      const auto& o = spec.operations[op];
      ctx.timeout = o.timeout ? *o.timeout : spec.settings.timeout.value_or(Duration{0});
      ctx.open_provider = open_provider;
      ctx.closure_channel = local.closure_socket;
      ctx.private_dir = local.private_undo_dir;
      ctx.private_parent = workflow_dir;
      ctx.record_dir = running_dir;
      ctx.process_record = state_file_name(spec.operations[op].id);
      ctx.secret_patterns = patterns;
      return ctx;
    };
    auto to_attempt = [](const OpResult& r) {
      AttemptResult a;
      a.ok = r.ok;
      a.exit_code = r.exit_code;
      a.timed_out = r.timed_out;
      a.cancelled = r.cancelled;
      a.permanent = r.permanent;
      a.message = r.message;
      a.undo = r.undo;
      a.duration = r.duration;
      a.resource_event = r.resource_event;
      a.resource = r.resource;
      return a;
    };
    // A journal or event log that cannot be written (a full or read-only disk) ends the run:
    // nothing may happen that is not journaled, so running operations are cancelled, none
    // starts and none is rolled back; the first error is the runner's. Resume continues.
    std::mutex failure_mutex;
    std::optional<ResourceError> failure;  // guarded by failure_mutex
    auto storage_failed = [&] {
      std::lock_guard l(failure_mutex);
      return failure.has_value();
    };
    auto fail_storage = [&](const ResourceError& e) {
      {
        std::lock_guard l(failure_mutex);
        if (!failure) failure = e;
      }
      cancel.cancel();
    };
    hooks.run_attempt = [&](size_t op, int, CancelToken& c) {
      if (storage_failed()) {  // its start was not journaled: it must not run
        AttemptResult a;
        a.cancelled = true;
        a.message = "not started: the journal cannot be written";
        return a;
      }
      const OpKind* kind = find_kind(spec.operations[op].kind);
      OpContext ctx = context(op);
      ctx.cancel = &c;
      return to_attempt(kind->run(spec.operations[op], ctx));
    };
    hooks.has_rollback = [&](size_t op) { return find_kind(spec.operations[op].kind)->has_rollback(spec.operations[op]); };
    hooks.rollback = [&](size_t op, const Datum& undo) {
      if (storage_failed()) {
        AttemptResult a;
        a.message = "not rolled back: the journal cannot be written";
        return a;
      }
      return to_attempt(find_kind(spec.operations[op].kind)->rollback(spec.operations[op], undo, context(op)));
    };
    std::vector<Event> events = history.events;  // everything journaled, for the checkpoint
    std::vector<Datum> undos = history.undo;
    // An event reaches the event log, which sessions show, only once it is journaled durably;
    // the log keeps the journal's order. Lines wait here (journal order) until then.
    std::deque<std::pair<uint64_t, std::string>> unpublished;  // guarded by journal_mutex
    std::mutex publish_mutex;  // one publisher at a time, so that lines keep their order
    auto publish = [&] {
      std::lock_guard p(publish_mutex);
      std::string lines;
      {
        std::lock_guard l(journal_mutex);
        const uint64_t durable = journal.durable_seq();
        while (!unpublished.empty() && unpublished.front().first <= durable) {
          lines += unpublished.front().second;
          lines += '\n';
          unpublished.pop_front();
        }
      }
      if (!lines.empty()) log.append_lines(lines);
    };
    hooks.record = [&](const Event& e, const Datum& undo, bool durable) {
      if (storage_failed()) return;
      try {
        std::string line = encode_json(e.to_datum());  // the journal's record too, without undo
        const std::string with_undo = undo.is_null() ? std::string() : encode_json(journal_record(e, undo));
        uint64_t seq;
        {
          std::lock_guard l(journal_mutex);
          seq = journal.append_encoded(undo.is_null() ? line : with_undo);
          events.push_back(e);
          undos.push_back(undo);
          unpublished.emplace_back(seq, std::move(line));
        }
        if (!durable) return;
        journal.wait_durable(seq);
        publish();
      } catch (const ResourceError& x) {
        fail_storage(x);
      }
    };
    hooks.sync = [&] {
      if (storage_failed()) return;
      try {
        journal.sync();
        publish();
      } catch (const ResourceError& x) {
        fail_storage(x);
      }
    };

    if (opened.recovery.tail_damaged) {
      // A crash tore the last record; it was cut off (and kept beside the journal). Say so.
      Event e;
      e.time = now_utc();
      e.workflow_id = id;
      e.type = event_type::journal_repaired;
      e.message = "the journal's tail was damaged (" + opened.recovery.tail_problem +
                  "); the damaged bytes were cut off and kept in " +
                  store.damaged_journal_location(id, opened.recovery.valid_bytes);
      std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.message->c_str());
      hooks.record(e, {}, true);
    }

    launcher.ready();
    int parallel = sub.parallel > 0 ? sub.parallel : spec.settings.parallel;
    if (parallel <= 0) parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    Scheduler scheduler(spec, id, dag.deps, plan.order, hooks, parallel);
    if (mode != RunnerMode::run) scheduler.restore(restored);
    // A rollback a crash interrupted is continued, never the forward run before it.
    if (mode == RunnerMode::rollback || restored.phase() == WorkflowPhase::rollback) scheduler.rollback_only();
    else scheduler.run(cancel);
    hooks.sync();  // the run ended on a durable record; this only publishes what may be left
    if (storage_failed()) throw *failure;  // the workflow stays interrupted, to be resumed
    // The run has ended and every operation is settled: fold the journal into a checkpoint.
    {
      std::lock_guard l(journal_mutex);
      journal.compact(opened.recovery.header, {make_checkpoint(id, events, undos)});
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "nu_plugin_provisioning runner: %s [%s]\n", e.what(), e.code().c_str());
    launcher.failed(e);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.what());
    launcher.failed(ResourceError("provisioning::workflow::runner_failed", e.what()));
    return 1;
  }
}

void launch_runner(const std::string& exe, const WorkflowStore& store, const std::string& workspace,
                   const std::string& id, RunnerMode mode, const Environment& env) {
  store.check_workflow_files(id);  // no runner starts on a folder holding a link
  Pipe ready = make_pipe();
  const std::string runner_log = store.local_files(id).runner_log;
  SpawnSpec spec;
  spec.argv = {exe, "--runner", to_string(mode), workspace, store.runner_locator(), id, std::to_string(kReadyFd)};
  spec.env = std::make_shared<const ChildEnv>(env);
  spec.out = Redirect::append(runner_log);
  spec.err = Redirect::to_stdout();
  spec.pass_fds = {{ready.write.get(), kReadyFd}};
  launch_detached(spec);
  ready.write.reset();  // the runner holds the only write end now: its exit is our end of file
  await_ready_line(ready.read.get(), "the workflow runner", runner_log, std::chrono::seconds(60),
                   "provisioning::workflow::runner_failed");
}

void block_runner_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int runner_main(const std::vector<std::string>& args) {
  const bool has_ready_fd = args.size() == 5 && args[4] == std::to_string(kReadyFd);
  if ((args.size() != 4 && !has_ready_fd) || !runner_mode_from(args[0])) {
    std::fprintf(stderr, "usage: nu_plugin_provisioning --runner run|resume|rollback WORKSPACE STORE ID [%d]\n",
                 kReadyFd);
    return 2;
  }
  // Leave the launching plugin: it reaps our parent, we go on in a session of our own.
  if (!detach(has_ready_fd)) return 1;
  block_runner_signals();
  signal(SIGPIPE, SIG_IGN);
  // A log at the file size limit (RLIMIT_FSIZE) fails its write with EFBIG and is cut with a
  // marker (subprocess.hpp), rather than the signal ending the runner.
  signal(SIGXFSZ, SIG_IGN);
  try {
    const std::unique_ptr<WorkflowStore> store = open_store(args[2], args[1]);
    return run_workflow(*store, args[1], args[3], *runner_mode_from(args[0]), has_ready_fd ? kReadyFd : -1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.what());
    return 1;
  }
}

bool signal_runner(const WorkflowStore& store, const std::string& id) {
  const std::optional<ClaimHolder> holder = store.claim_holder(id);
  if (!holder || !holder->host.empty() || !holder->pid || *holder->pid <= 0) return false;
  return kill(static_cast<pid_t>(*holder->pid), SIGTERM) == 0;
}

}  // namespace prov
