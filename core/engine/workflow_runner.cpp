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
#include "core/events/event_log.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/ops/op_kind.hpp"
#include "core/providers/catalog.hpp"
#include "core/state/file_io.hpp"
#include "core/state/journal.hpp"
#include "core/state/lock.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/process_record.hpp"
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

/// The runner's end of its launcher's readiness pipe (launch_runner): says once that the runner
/// holds the workflow, or why it cannot run it, then closes. A runner without a launcher (-1)
/// says nothing.
class ReadyPipe {
 public:
  explicit ReadyPipe(int fd) : fd_(fd) {}
  ~ReadyPipe() { close(); }
  ReadyPipe(const ReadyPipe&) = delete;
  ReadyPipe& operator=(const ReadyPipe&) = delete;
  void ready() { say(Datum(DatumRecord{{"ready", Datum(true)}})); }
  void failed(const Error& e) {
    say(Datum(DatumRecord{{"code", Datum(e.code())}, {"message", Datum(e.what())}, {"help", Datum(e.help())}}));
  }

 private:
  void say(const Datum& d) {
    if (fd_ < 0) return;
    const std::string line = encode_json(d) + "\n";
    // The launcher may have gone; nothing here may stop the run.
    [[maybe_unused]] const ssize_t n = ::write(fd_, line.data(), line.size());
    close();
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;  ///< -1 once it has spoken
};

/// This binary: it supervises `local` servers as it runs workflows.
std::string self_exe_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
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

/// One run of one workflow in this process: what the runner holds (the lock, the journal, the
/// configuration and plan, the folders) and the hooks through which the scheduler runs, undoes
/// and records operations. Recording is the Recorder's; scheduling the Scheduler's.
class WorkflowRunner {
 public:
  WorkflowRunner(const StateDir& state, std::string workspace, std::string id, RunnerMode mode)
      : state_(state),
        workspace_(std::move(workspace)),
        id_(std::move(id)),
        mode_(mode) {}

  /// Takes the workflow: its runner lock, its journal (a torn tail cut), its configuration
  /// snapshot and plan; stops what a killed runner left running. Throws Error when it cannot
  /// run (locked, already started or ended, a corrupt journal).
  void open();

  /// Runs (or resumes, or rolls back) the workflow to its end, `launcher` told once it is
  /// about to. Throws the recording failure that stopped it, if one did (the workflow then
  /// stays interrupted, to be resumed).
  void run(ReadyPipe& launcher);

 private:
  /// The configuration of the command that submitted the workflow, resumed or not; for
  /// journals older than that snapshot, the workspace's files as they are now.
  Datum run_config() const;
  void stop_leftovers() const;
  std::unique_ptr<Provider> open_provider(const std::string& name);
  OpContext context(size_t op, CancelToken* cancel);
  SchedulerHooks hooks();
  int parallel() const;
  /// The event saying that a crash tore the journal's tail, which was cut off.
  void report_repaired_tail();

  const StateDir& state_;
  const std::string workspace_, id_;
  const RunnerMode mode_;
  std::optional<FileLock> lock_;           ///< the runner lock, held from open() on
  std::optional<Journal::Opened> opened_;  ///< the journal, open to append
  WorkflowHistory history_;
  Environment env_;  ///< the session's, as this process got it
  Datum config_;
  Dag dag_;
  WorkflowSpec spec_;
  Plan plan_;
  WorkflowState restored_;  ///< the journal's fold
  std::shared_ptr<const SafeDir> workflow_dir_, running_dir_, logs_dir_;
  std::optional<EventLogWriter> log_;
  /// Shared with the signal watcher, which outlives the run.
  std::shared_ptr<CancelToken> cancel_ = std::make_shared<CancelToken>();
  std::optional<Recorder> recorder_;
  std::shared_ptr<const ChildEnv> base_env_;  ///< built once: every process shares its envp block
  std::vector<std::string> patterns_;         ///< secret patterns of the configuration
  std::vector<std::string> secrets_;          ///< secret values, hidden in output tails
  std::once_flag catalog_once_;
  std::optional<ProviderCatalog> catalog_;  ///< the workspace's providers, found on first use
};

void WorkflowRunner::open() {
  lock_.emplace(state_.lock_runner(id_, std::chrono::seconds(5)));
  opened_.emplace(Journal::open_for_append(state_.journal_path(id_), Journal::TailRepair::truncate));
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

  if (mode_ == RunnerMode::run && !history_.events.empty())
    throw WorkflowError("provisioning::workflow::already_started", "workflow " + id_ + " has already run",
                        "use `prov workflow resume " + id_ + "` to continue it");
  if (mode_ == RunnerMode::resume && restored_.ended())
    throw WorkflowError("provisioning::workflow::already_ended", "workflow " + id_ + " has already ended",
                        "`prov workflow status " + id_ + "` shows how it ended");

  // Nothing in the workflow's folder is followed through a link: checked here, then its
  // folders are held open and used through their descriptors.
  state_.check_workflow_files(id_);
  workflow_dir_ = std::make_shared<const SafeDir>(state_.open_workflow(id_));
  running_dir_ = std::make_shared<const SafeDir>(workflow_dir_->sub("running", true));
  logs_dir_ = std::make_shared<const SafeDir>(workflow_dir_->sub("logs", true));
  stop_leftovers();
  log_.emplace(state_.events_path(id_));
  recorder_.emplace(opened_->journal, *log_, history_.events, history_.undo, *cancel_);
  recorder_->publish_unlogged(state_.events_path(id_), opened_->recovery.records);
  watch_signals(cancel_);
  base_env_ = std::make_shared<const ChildEnv>(env_);
  patterns_ = secret_patterns(config_);
  secrets_ = secret_values(config_, patterns_, env_);
}

Datum WorkflowRunner::run_config() const {
  Datum config = submission_config(state_, history_.submission);
  if (!config.is_null()) return config;
  ConfigRequest request;
  request.cwd = workspace_;
  request.workspace_flag = workspace_;
  request.env = env_;
  return load_config(request).merged;
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
  pctx.state_dir = state_.path();
  pctx.env = env_;
  pctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
  pctx.cancel = cancel_.get();
  // An operation that names no provider has the workspace's default.
  return prov::open_provider(catalog_->require(name.empty() ? catalog_->default_name() : name), pctx, self_exe_path());
}

OpContext WorkflowRunner::context(size_t op, CancelToken* cancel) {
  const auto& o = spec_.operations[op];
  const WorkflowSubmission& sub = history_.submission;
  OpContext ctx;
  ctx.workspace = workspace_;
  ctx.log_path = state_.operation_log_path(id_, o.id);
  ctx.log_dir = logs_dir_;
  ctx.base_env = base_env_;
  ctx.nu_path = sub.nu_path.empty() ? "nu" : sub.nu_path;
  ctx.timeout = o.timeout ? *o.timeout : spec_.settings.timeout.value_or(Duration{0});
  ctx.cancel = cancel;
  ctx.open_provider = [this](const std::string& name) { return open_provider(name); };
  ctx.closure_channel = state_.closure_socket_path(id_);
  ctx.private_dir = state_.private_undo_dir(id_);
  ctx.private_parent = workflow_dir_;
  ctx.record_dir = running_dir_;
  ctx.process_record = state_file_name(o.id);
  ctx.secret_patterns = patterns_;
  return ctx;
}

SchedulerHooks WorkflowRunner::hooks() {
  // A journal or event log that cannot be written (a full or read-only disk) ends the run:
  // nothing may happen that is not journaled, so running operations are cancelled (the
  // Recorder fires the token), none starts and none is rolled back. Resume continues.
  auto not_started = [] {
    OpResult r;
    r.cancelled = true;
    r.message = "not started: the journal cannot be written";
    return r;
  };
  SchedulerHooks h;
  h.start_attempt = [this, not_started](size_t op, int, CancelToken& c) -> std::unique_ptr<RunningOp> {
    if (recorder_->failed()) return std::make_unique<EndedOp>(not_started());  // its start was not journaled
    std::unique_ptr<RunningOp> running =
        find_kind(spec_.operations[op].kind)->start(spec_.operations[op], context(op, &c));
    if (!running) return nullptr;
    return std::make_unique<SecretsHidden>(std::move(running), secrets_);
  };
  h.run_attempt = [this, not_started](size_t op, int, CancelToken& c) {
    if (recorder_->failed()) return not_started();
    OpResult r = find_kind(spec_.operations[op].kind)->run(spec_.operations[op], context(op, &c));
    r.output_tail = redact_values(std::move(r.output_tail), secrets_);
    return r;
  };
  h.has_rollback = [this](size_t op) {
    return find_kind(spec_.operations[op].kind)->has_rollback(spec_.operations[op]);
  };
  h.rollback = [this](size_t op, const Datum& undo) {
    if (recorder_->failed())
      return op_failed("provisioning::state::io", "not rolled back: the journal cannot be written");
    return find_kind(spec_.operations[op].kind)
        ->rollback(spec_.operations[op], undo, context(op, nullptr));  // an undo runs to its end
  };
  h.record = [this](const Event& e, const Datum& undo, bool durable) { recorder_->record(e, undo, durable); };
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
              "); the damaged bytes were cut off and kept in " + state_.journal_path(id_) + ".damaged-" +
              std::to_string(recovery.valid_bytes);
  std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.message->c_str());
  recorder_->record(e, {}, true);
}

void WorkflowRunner::run(ReadyPipe& launcher) {
  if (opened_->recovery.tail_damaged) report_repaired_tail();
  launcher.ready();
  Scheduler scheduler(spec_, id_, dag_.deps, plan_.order, hooks(), parallel());
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

int run_workflow(const StateDir& state, const std::string& workspace, const std::string& id, RunnerMode mode,
                 int ready_fd) {
  ReadyPipe launcher(ready_fd);
  try {
    WorkflowRunner runner(state, workspace, id, mode);
    runner.open();
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

namespace {

/// Waits for the runner's one line on `fd` (ReadyPipe) and throws what it says went wrong. A
/// runner that ends without a word is reported with the tail of its log.
void await_ready(int fd, const std::string& runner_log) {
  std::string said;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int rc = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0)
      throw ResourceError("provisioning::workflow::runner_failed", "the workflow runner did not start within 60 s",
                          "see " + runner_log);
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(buf, static_cast<size_t>(n));
  }
  Datum answer;
  try {
    answer = decode_json(said);
  } catch (const Error&) {
  }
  if (const Datum* ok = answer.find("ready"); ok && std::holds_alternative<bool>(ok->v)) return;
  const Datum* code = answer.find("code");
  const Datum* message = answer.find("message");
  const Datum* help = answer.find("help");
  if (code && code->is_string() && message && message->is_string())
    throw WorkflowError(code->str(), message->str(), help && help->is_string() ? help->str() : std::string());
  std::string tail;
  if (auto log = read_file_if_exists(runner_log)) tail = log->data.substr(log->data.size() > 400 ? log->data.size() - 400 : 0);
  throw ResourceError("provisioning::workflow::runner_failed",
                      "the workflow runner ended before it could run the workflow" + (tail.empty() ? "" : ": " + tail),
                      "see " + runner_log);
}

}  // namespace

void launch_runner(const std::string& exe, const StateDir& state, const std::string& workspace, const std::string& id,
                   RunnerMode mode, const Environment& env) {
  state.check_workflow_files(id);  // no runner starts on a folder holding a link
  const ChildEnv child_env(env);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw ResourceError("provisioning::process::spawn", std::string("cannot make the runner's readiness pipe: ") +
                                                            std::strerror(errno));
  // Never kReadyFd itself: a dup2 onto itself would keep its close-on-exec flag.
  const int write_end = ::fcntl(pipe_fds[1], F_DUPFD_CLOEXEC, kReadyFd + 1);
  ::close(pipe_fds[1]);
  const std::string runner_log = state.workflow_dir(id) + "/runner.log";
  const int rc = write_end < 0 ? errno
                               : launch_detached({exe, "--runner", to_string(mode), workspace, state.path(), id,
                                                  std::to_string(kReadyFd)},
                                                 runner_log, child_env.envp(), write_end);
  if (write_end >= 0) ::close(write_end);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } read_end{pipe_fds[0]};
  if (rc) throw ResourceError("provisioning::process::spawn", "cannot start the workflow runner " + exe + ": " + std::strerror(rc));
  await_ready(read_end.fd, runner_log);
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
    std::fprintf(stderr, "usage: nu_plugin_provisioning --runner run|resume|rollback WORKSPACE STATE_DIR ID [%d]\n",
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
    StateDir state = StateDir::open(args[2], args[1]);
    return run_workflow(state, args[1], args[3], *runner_mode_from(args[0]), has_ready_fd ? kReadyFd : -1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning runner: %s\n", e.what());
    return 1;
  }
}

bool signal_runner(const StateDir& state, const std::string& id) {
  std::string path = state.runner_lock_path(id);
  if (!FileLock::is_held(path)) return false;
  auto pid = FileLock::holder_pid(path);
  if (!pid || *pid <= 0) return false;
  return kill(static_cast<pid_t>(*pid), SIGTERM) == 0;
}

}  // namespace prov
