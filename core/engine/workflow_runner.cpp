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

#include "core/config/config.hpp"
#include "core/engine/recorder.hpp"
#include "core/engine/scheduler.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/engine/workflow_state.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/references.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/ops/op_kind.hpp"
#include "core/providers/catalog.hpp"
#include "core/state/file_io.hpp"
#include "core/state/journal.hpp"
#include "core/state/open_store.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"
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

/// An action whose result shows no secret value in its output's tail.
class SecretsHidden : public RunningOp {
 public:
  SecretsHidden(std::unique_ptr<RunningOp> inner, const std::vector<std::string>& secrets)
      : inner_(std::move(inner)),
        secrets_(secrets) {}
  void poll_fds(std::vector<pollfd>& fds) const override { inner_->poll_fds(fds); }
  std::optional<Clock::time_point> wake_at() const override { return inner_->wake_at(); }
  std::optional<OpResult> step() override {
    std::optional<OpResult> r = inner_->step();
    if (r && !r->output_tail.empty()) r->output_tail = redact_values(std::move(r->output_tail), secrets_);
    return r;
  }

 private:
  std::unique_ptr<RunningOp> inner_;
  const std::vector<std::string>& secrets_;  ///< the runner's, which outlives the action
};

/// The secret values of `config` (under keys `patterns` name) and of `env` (variables so
/// named), to be kept out of the output tails that events show.
std::vector<std::string> secret_values(const Datum& config, const std::vector<std::string>& patterns,
                                       const Environment& env) {
  std::vector<std::string> out;
  std::function<void(const Datum&)> collect = [&](const Datum& d) {
    if (d.is_string())
      out.push_back(d.str());
    else if (d.is_record())
      for (const auto& [k, v] : d.record()) collect(v);
    else if (const auto* l = std::get_if<DatumList>(&d.v))
      for (const auto& v : *l) collect(v);
  };
  const Datum hidden = split_secrets(config, patterns).hidden;
  if (const auto* entries = std::get_if<DatumList>(&hidden.v))
    for (const Datum& e : *entries)
      if (const Datum* v = e.find("value")) collect(*v);
  for (const auto& [name, value] : env)
    if (is_secret_key(name, patterns)) out.push_back(value);
  return out;
}

/// `d` with every occurrence of `secrets` in its strings (record keys too) redacted.
Datum redact_strings(const Datum& d, const std::vector<std::string>& secrets) {
  if (d.is_string()) return redact_values(d.str(), secrets);
  if (d.is_list()) {
    DatumList out;
    for (const Datum& v : d.list()) out.push_back(redact_strings(v, secrets));
    return out;
  }
  if (d.is_record()) {
    DatumRecord out;
    for (const auto& [k, v] : d.record()) out.emplace_back(redact_values(k, secrets), redact_strings(v, secrets));
    return out;
  }
  return d;
}

/// One run of one workflow in this process: what the runner holds (the lock, the journal, the
/// configuration and plan, the folders) and the hooks through which the scheduler runs, undoes
/// and records operations. Recording is the Recorder's; scheduling the Scheduler's.
class WorkflowRunner {
 public:
  WorkflowRunner(WorkflowStore& store, std::string workspace, std::string id, RunnerMode mode)
      : store_(store),
        workspace_(std::move(workspace)),
        id_(std::move(id)),
        mode_(mode) {}

  /// Takes the workflow: its claim (waiting up to `claim_wait` for a holder letting go), its
  /// journal (a torn tail cut), its configuration snapshot and plan; stops what a killed
  /// runner left running. Throws Error when it cannot run (locked, already started or ended,
  /// a corrupt journal).
  void open(std::chrono::milliseconds claim_wait);

  /// Runs (or resumes, or rolls back) the workflow to its end, `launcher` told once it is
  /// about to. Throws the recording failure that stopped it, if one did (the workflow then
  /// stays interrupted, to be resumed).
  void run(ReadyLine& launcher);

 private:
  /// The configuration of the command that submitted the workflow, resumed or not; for
  /// journals older than that snapshot, the workspace's files as they are now.
  Datum run_config() const;
  void stop_leftovers() const;
  std::unique_ptr<Provider> open_provider(const std::string& name);
  /// What attempt `attempt` of operation `op` (nullopt: its rollback) runs in.
  OpContext context(size_t op, CancelToken* cancel, std::optional<int> attempt);
  SchedulerHooks hooks();
  int parallel() const;
  /// The event saying that a crash tore the journal's tail, which was cut off.
  void report_repaired_tail();
  /// Operation `op` with the placeholders of its fields resolved from the journaled results of
  /// the operations it references, the configuration, the environment and the variables.
  /// Throws WorkflowError `provisioning::workflow::bad_reference` when one cannot be.
  OperationSpec resolved(size_t op) const;
  Datum reference_value(const Reference& r, const std::string& where) const;
  /// Journals `e` (record_event), then, when it ends an operation's attempt or undo step, has
  /// the store keep the end of its log for other hosts (keep_log_tail).
  void record(const Event& e, const Datum& undo, bool durable);
  /// Journals `e`; a result that shows a secret is journaled redacted, and kept whole in the
  /// workflow's private folder for later operations (restore_private_outs).
  void record_event(const Event& e, const Datum& undo, bool durable);
  void keep_log_tail(const Event& e);
  /// The whole results of restored operations whose journaled result was redacted.
  void restore_private_outs();
  /// The file in the private folder that holds operation `id`'s whole result.
  static std::string private_out_name(const std::string& id) { return state_file_name(id) + ".out.json"; }

  WorkflowStore& store_;
  const std::string workspace_, id_;
  const RunnerMode mode_;
  std::unique_ptr<WorkflowClaim> claim_;  ///< the runner's claim, held from open() on
  std::optional<OpenedJournal> opened_;   ///< the journal, open to append under the claim
  WorkflowHistory history_;
  Environment env_;  ///< the session's, as this process got it
  Datum config_;
  Dag dag_;
  WorkflowSpec spec_;
  Plan plan_;
  WorkflowState restored_;  ///< the journal's fold
  LocalFiles local_;  ///< this host's files of the workflow
  std::shared_ptr<const SafeDir> workflow_dir_, running_dir_, logs_dir_;
  std::unique_ptr<EventAppender> log_;
  /// Shared with the signal watcher, which outlives the run.
  std::shared_ptr<CancelToken> cancel_ = std::make_shared<CancelToken>();
  std::optional<Recorder> recorder_;
  std::shared_ptr<const ChildEnv> base_env_;  ///< built once: every process shares its envp block
  std::vector<std::string> patterns_;         ///< secret patterns of the configuration
  std::vector<std::string> secrets_;          ///< secret values, hidden in output tails
  std::vector<bool> out_referenced_;  ///< by operation: another references its out
  std::vector<bool> has_refs_;                ///< by operation: its fields hold placeholders
  const Scheduler* scheduler_ = nullptr;      ///< while run() runs: whose states hold the results
  std::once_flag catalog_once_;
  std::optional<ProviderCatalog> catalog_;  ///< the workspace's providers, found on first use
};

void WorkflowRunner::open(std::chrono::milliseconds claim_wait) {
  claim_ = store_.claim(id_, claim_wait);
  opened_.emplace(store_.open_journal(*claim_, Journal::TailRepair::truncate));
  history_ = history_from(opened_->recovery.header, opened_->recovery.records);
  const WorkflowSubmission& sub = history_.submission;
  // The session's environment came as this process's own; --env as the journal says.
  env_ = current_environment();
  if (!sub.provisioning_env.empty()) env_["PROVISIONING_ENV"] = sub.provisioning_env;
  config_ = run_config();
  spec_ = parse_workflow(sub.document, sub.origin, &dag_, workspace_settings(config_));
  plan_ = make_plan(spec_, dag_);
  std::vector<std::string> ids;
  ids.reserve(spec_.operations.size());
  for (const auto& o : spec_.operations) ids.push_back(o.id);
  restored_ = fold_events(ids, history_.events, history_.undo);
  has_refs_.reserve(spec_.operations.size());
  out_referenced_.assign(spec_.operations.size(), false);
  for (const auto& o : spec_.operations) {
    const std::vector<FieldReference> refs = find_references(o.fields, o.id);
    has_refs_.push_back(!refs.empty());
    for (const FieldReference& r : refs)
      if (r.ref.root == "ops" && r.ref.path.size() > 1 && r.ref.path[1] == "out")
        if (const std::optional<size_t> i = restored_.index(r.ref.path[0])) out_referenced_.at(*i) = true;
  }

  if (mode_ == RunnerMode::run && !history_.events.empty())
    throw WorkflowError("provisioning::workflow::already_started", "workflow " + id_ + " has already run",
                        "use `prov workflow resume " + id_ + "` to continue it");
  if (mode_ == RunnerMode::resume && restored_.ended())
    throw WorkflowError("provisioning::workflow::already_ended", "workflow " + id_ + " has already ended",
                        "`prov workflow status " + id_ + "` shows how it ended");

  // Nothing in the workflow's folder is followed through a link: checked here, then its
  // folders are held open and used through their descriptors.
  store_.check_workflow_files(id_);
  local_ = store_.local_files(id_);
  workflow_dir_ = local_.folder;
  running_dir_ = local_.running;
  logs_dir_ = local_.logs;
  stop_leftovers();
  log_ = store_.open_event_log(*claim_);
  recorder_.emplace(*opened_->writer, *log_, history_.events, history_.undo, *cancel_);
  recorder_->publish_unlogged(store_.read_events(id_).size(), opened_->recovery.records);
  watch_signals(cancel_);
  base_env_ = std::make_shared<const ChildEnv>(env_);
  patterns_ = secret_patterns(config_);
  secrets_ = secret_values(config_, patterns_, env_);
  restore_private_outs();
}

void WorkflowRunner::restore_private_outs() {
  for (size_t i = 0; i < restored_.operations().size() && i < spec_.operations.size(); ++i) {
    if (!restored_.operations()[i].out_private) continue;
    std::optional<std::string> text;
    if (std::optional<SafeDir> dir = workflow_dir_->find("undo"))
      text = dir->read_file(private_out_name(spec_.operations[i].id));
    if (!text)
      throw ResourceError("provisioning::state::corrupt_secrets",
                          "the private copy of operation '" + spec_.operations[i].id +
                              "''s result is missing from the workflow's folder",
                          "its journaled result was redacted; re-run the workflow");
    restored_.restore_out(i, decode_json(*text));
  }
}

void WorkflowRunner::record(const Event& e, const Datum& undo, bool durable) {
  record_event(e, undo, durable);
  keep_log_tail(e);
}

void WorkflowRunner::keep_log_tail(const Event& e) {
  // An attempt or undo step ended: its log is whole now.
  if (!e.operation || e.type == event_type::operation_started || e.type == event_type::rollback_step_started) return;
  try {
    store_.keep_log_tail(*claim_, *e.operation);
  } catch (const Error&) {
    // Only other hosts miss it; a lost claim or an unreachable store stops the run at its next record.
  }
}

void WorkflowRunner::record_event(const Event& e, const Datum& undo, bool durable) {
  const Datum* out = e.type == event_type::operation_succeeded && e.details ? e.details->find("out") : nullptr;
  if (!out || secrets_.empty()) return recorder_->record(e, undo, durable);
  Datum shown = redact_strings(*out, secrets_);
  if (shown == *out) return recorder_->record(e, undo, durable);
  try {
    workflow_dir_->sub("undo", true).write_file_atomic(private_out_name(*e.operation), encode_json(*out), 0600);
  } catch (const Error&) {
    shown = Datum(kRedacted);  // nothing can keep it: later runs see the marker
  }
  Event hidden = e;
  hidden.details = Datum(DatumRecord{{"out", std::move(shown)}, {"out_private", Datum(true)}});
  recorder_->record(hidden, undo, durable);
}

OperationSpec WorkflowRunner::resolved(size_t op) const {
  const OperationSpec& o = spec_.operations[op];
  if (!has_refs_[op]) return o;
  OperationSpec r = o;
  const std::string where = "operation '" + o.id + "'";
  r.fields = resolve_references(
      o.fields, [&](const Reference& ref) { return reference_value(ref, where); }, where);
  return r;
}

Datum WorkflowRunner::reference_value(const Reference& r, const std::string& where) const {
  auto fail = [&](const std::string& what, std::string help) -> Datum {
    throw WorkflowError("provisioning::workflow::bad_reference", where + ": {{" + r.text + "}} " + what,
                        std::move(help));
  };
  if (r.path.empty()) return fail("names nothing", "write {{" + r.root + ".<name>}}");
  if (r.root == "config") return value_at(config_, r.path, 0, r, where);
  if (r.root == "vars") return value_at(spec_.vars, r.path, 0, r, where);
  if (r.root == "env") {
    auto it = env_.find(r.path[0]);
    if (it == env_.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : env_) names.push_back(k);
      const std::vector<std::string> near = nearest_names(r.path[0], names, 1);
      return fail("names a variable that is not set in the workflow's environment",
                  near.empty() ? "set it before the run" : "did you mean " + near.front() + "?");
    }
    if (r.path.size() > 1)
      return fail("reads a member of a variable, which is text", "reference {{env." + r.path[0] + "}}");
    return Datum(it->second);
  }
  if (r.root != "ops") return fail("has an unknown root '" + r.root + "'", "use ops, config, env or vars");
  const std::optional<size_t> i = restored_.index(r.path[0]);
  if (!i || *i >= scheduler_->states().size()) return fail("names an operation that is not in this workflow", "");
  const OperationState& s = scheduler_->states()[*i];
  if (s.status != OpStatus::succeeded)
    return fail("needs the result of '" + r.path[0] + "', which has " +
                    (s.status == OpStatus::rolled_back ? "been rolled back" : "not succeeded"),
                "");
  if (r.path.size() > 1 && r.path[1] == "exit_code") {
    if (!s.exit_code) return fail("asks for an exit code, which '" + r.path[0] + "' did not have", "");
    return Datum(*s.exit_code);
  }
  return value_at(s.out, r.path, 2, r, where);
}

Datum WorkflowRunner::run_config() const {
  Datum config = submission_config(store_, history_.submission);
  if (!config.is_null()) return config;
  ConfigRequest request;
  request.cwd = workspace_;
  request.workspace_flag = workspace_;
  request.env = env_;
  return load_config(request).all();
}

void WorkflowRunner::stop_leftovers() const {
  const std::vector<std::string> leftovers = stop_recorded_processes(running_dir_->fd(), std::chrono::seconds(5));
  if (leftovers.empty()) return;
  std::string list;
  for (const auto& n : leftovers) list += (list.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "stopped the processes that a killed runner left running: %s\n", list.c_str());
}

std::unique_ptr<Provider> WorkflowRunner::open_provider(const std::string& name) {
  std::call_once(catalog_once_, [&] { catalog_ = ProviderCatalog::discover(config_, workspace_); });
  const WorkflowSubmission& sub = history_.submission;
  ProviderContext pctx;
  pctx.workspace = workspace_;
  pctx.state_dir = store_.local_path();
  pctx.env = env_;
  pctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
  pctx.cancel = cancel_.get();
  // An operation that names no provider has the workspace's default.
  return prov::open_provider(catalog_->require(name.empty() ? catalog_->default_name() : name), pctx, self_executable());
}

OpContext WorkflowRunner::context(size_t op, CancelToken* cancel, std::optional<int> attempt) {
  const auto& o = spec_.operations[op];
  const WorkflowSubmission& sub = history_.submission;
  OpContext ctx;
  ctx.workspace = workspace_;
  ctx.log_path = store_.operation_log_path(id_, o.id);
  ctx.log_dir = logs_dir_;
  ctx.base_env = base_env_;
  ctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
  ctx.timeout = o.timeout ? *o.timeout : spec_.settings.timeout.value_or(Duration{0});
  ctx.cancel = cancel;
  ctx.attempt = attempt;
  ctx.open_provider = [this](const std::string& name) { return open_provider(name); };
  ctx.closure_channel = local_.closure_socket;
  ctx.private_dir = local_.private_undo_dir;
  ctx.private_parent = workflow_dir_;
  ctx.record_dir = running_dir_;
  ctx.process_record = state_file_name(o.id);
  ctx.secret_patterns = patterns_;
  ctx.out_referenced = out_referenced_[op];
  ctx.nu_plugin = self_executable();
  return ctx;
}

SchedulerHooks WorkflowRunner::hooks() {
  // A journal or event log that cannot be written (a full or read-only disk), or a claim lost
  // (a shared store's lease lapsed), ends the run: nothing may happen that is not journaled
  // under this runner's claim, so running operations are cancelled (the Recorder fires the
  // token), none starts and none is rolled back. Resume, or another host's agent, continues.
  auto not_started = [] {
    OpResult r;
    r.cancelled = true;
    r.message = "not started: the journal cannot be written, or this runner's claim was lost";
    return r;
  };
  // A reference that cannot be resolved now (a member its producer's result lacks) fails the
  // operation; another attempt would see the same result.
  auto unresolved = [](const Error& e) {
    OpResult r = op_failed(e.code(), e.what());
    r.permanent = true;
    return r;
  };
  SchedulerHooks h;
  h.start_attempt = [this, not_started, unresolved](size_t op, int attempt,
                                                    CancelToken& c) -> std::unique_ptr<RunningOp> {
    // Its start was not journaled, or this runner lost the workflow since: it starts nothing.
    if (!recorder_->may_act()) return std::make_unique<EndedOp>(not_started());
    std::optional<OperationSpec> o;
    try {
      o = resolved(op);
    } catch (const Error& e) {
      return std::make_unique<EndedOp>(unresolved(e));
    }
    std::unique_ptr<RunningOp> running = find_kind(o->kind)->start(*o, context(op, &c, attempt));
    if (!running) return nullptr;
    return std::make_unique<SecretsHidden>(std::move(running), secrets_);
  };
  h.run_attempt = [this, not_started, unresolved](size_t op, int attempt, CancelToken& c) {
    if (!recorder_->may_act()) return not_started();
    std::optional<OperationSpec> o;
    try {
      o = resolved(op);
    } catch (const Error& e) {
      return unresolved(e);
    }
    OpResult r = find_kind(o->kind)->run(*o, context(op, &c, attempt));
    r.output_tail = redact_values(std::move(r.output_tail), secrets_);
    return r;
  };
  h.has_rollback = [this](size_t op) {
    return find_kind(spec_.operations[op].kind)->has_rollback(spec_.operations[op]);
  };
  h.rollback = [this, unresolved](size_t op, const Datum& undo) {
    if (!recorder_->may_act())
      return op_failed("provisioning::state::io", "not rolled back: the journal cannot be written");
    std::optional<OperationSpec> o;
    try {
      o = resolved(op);
    } catch (const Error& e) {
      return unresolved(e);
    }
    return find_kind(o->kind)->rollback(*o, undo, context(op, nullptr, std::nullopt));  // an undo runs to its end
  };
  h.record = [this](const Event& e, const Datum& undo, bool durable) { record(e, undo, durable); };
  h.sync = [this] { recorder_->sync(); };
  return h;
}

int WorkflowRunner::parallel() const {
  int parallel = history_.submission.parallel > 0 ? history_.submission.parallel : spec_.settings.parallel;
  if (parallel <= 0) parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return parallel;
}

void WorkflowRunner::report_repaired_tail() {
  const auto& recovery = opened_->recovery;
  Event e;
  e.time = now_utc();
  e.workflow_id = id_;
  e.type = event_type::journal_repaired;
  e.message = "the journal's tail was damaged (" + recovery.tail_problem +
              "); the damaged bytes were cut off and kept in " +
              store_.damaged_journal_location(id_, recovery.valid_bytes);
  std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.message->c_str());
  recorder_->record(e, {}, true);
}

void WorkflowRunner::run(ReadyLine& launcher) {
  if (opened_->recovery.tail_damaged) report_repaired_tail();
  launcher.ready();
  Scheduler scheduler(spec_, id_, dag_.deps, plan_.order, hooks(), parallel());
  scheduler_ = &scheduler;
  if (mode_ != RunnerMode::run) scheduler.restore(restored_);
  // A rollback a crash interrupted is continued, never the forward run before it.
  if (mode_ == RunnerMode::rollback || restored_.phase() == WorkflowPhase::rollback)
    scheduler.rollback_only();
  else
    scheduler.run(*cancel_);
  recorder_->sync();  // the run ended on a durable record; this only publishes what may be left
  if (auto failure = recorder_->failure()) throw *failure;  // the workflow stays interrupted, to be resumed
  // The run has ended and every operation is settled: fold the journal into a checkpoint.
  recorder_->checkpoint(id_, opened_->recovery.header);
}

}  // namespace

int run_workflow(WorkflowStore& store, const std::string& workspace, const std::string& id, RunnerMode mode,
                 int ready_fd, std::chrono::milliseconds claim_wait) {
  ReadyLine launcher(ready_fd);
  try {
    WorkflowRunner runner(store, workspace, id, mode);
    runner.open(claim_wait);
    runner.run(launcher);
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
                   const std::string& id, RunnerMode mode, const Environment& env,
                   std::chrono::milliseconds claim_wait) {
  store.check_workflow_files(id);  // no runner starts on a folder holding a link
  Pipe ready = make_pipe();
  const std::string runner_log = store.local_files(id).runner_log;
  SpawnSpec spec;
  spec.argv = {exe,
               "--runner",
               to_string(mode),
               workspace,
               store.runner_locator(),
               id,
               std::to_string(kReadyFd),
               std::to_string(claim_wait.count())};
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
  // MODE WORKSPACE STORE ID, and from launch_runner the readiness descriptor and the claim
  // wait in milliseconds.
  const bool launched = args.size() == 6 && args[4] == std::to_string(kReadyFd);
  std::optional<std::chrono::milliseconds> claim_wait;
  if (args.size() == 4)
    claim_wait = kRunnerClaimWait;
  else if (launched && !args[5].empty() && args[5].size() <= 9 &&
           args[5].find_first_not_of("0123456789") == std::string::npos)
    claim_wait = std::chrono::milliseconds(std::stol(args[5]));
  if (!claim_wait || !runner_mode_from(args[0])) {
    std::fprintf(stderr,
                 "usage: nu_plugin_provisioning --runner run|resume|rollback WORKSPACE STORE ID [%d CLAIM_WAIT_MS]\n",
                 kReadyFd);
    return 2;
  }
  // Leave the launching plugin: it reaps our parent, we go on in a session of our own.
  if (!detach(launched)) return 1;
  block_runner_signals();
  signal(SIGPIPE, SIG_IGN);
  // A log at the file size limit (RLIMIT_FSIZE) fails its write with EFBIG and is cut with a
  // marker (subprocess.hpp), rather than the signal ending the runner.
  signal(SIGXFSZ, SIG_IGN);
  try {
    const std::unique_ptr<WorkflowStore> store = open_store(args[2], args[1]);
    return run_workflow(*store, args[1], args[3], *runner_mode_from(args[0]), launched ? kReadyFd : -1, *claim_wait);
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
