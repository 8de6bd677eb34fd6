#include "plugin/commands/workflow.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "core/engine/preflight.hpp"
#include "core/engine/submit.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/engine/workflow_runner.hpp"
#include "core/events/log_watch.hpp"
#include "core/events/op_log.hpp"
#include "core/events/progress.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/render.hpp"
#include "core/graph/svg.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/ops/closure_channel.hpp"
#include "core/ops/kind_fields.hpp"
#include "core/ops/workspace_path.hpp"
#include "core/state/file_io.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/core_error.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/progress_line.hpp"
#include "plugin/commands/workflow_file.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

// ---- shared pieces ------------------------------------------------------------------------

/// What relative paths mean, for the help of the commands that take a workflow.
constexpr const char* kRelativePaths =
    "Paths: the workflow argument is relative to Nu's current directory, or a bare name (deploy) found in the "
    "workspace's workflows folder (paths.workflows, default <workspace>/workflows). Relative paths inside the "
    "workflow (file.write path, command and nu cwd) resolve against the workspace's root whenever a workspace is "
    "named (--workspace, $env.PROVISIONING_WORKSPACE, or config.defaults.toml found upwards from Nu's current "
    "directory), and against Nu's current directory otherwise (plan and graph work outside a workspace; run and "
    "submit refuse to).";

PositionalArg workflow_arg() {
  return {"workflow",
          "A workflow file (.toml or .json) relative to the current directory, or the name of one in the "
          "workspace's workflows folder (paths.workflows); or pipe a record",
          shape::filepath()};
}

PositionalArg id_arg() { return {"id", "The workflow's id, as `prov workflow list` shows it", shape::string()}; }

std::vector<Flag> with(std::vector<Flag> extra) {
  std::vector<Flag> f = workspace_flags();
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

/// A closure given as a `nu` operation's code (or rollback) in a piped record. The document
/// holds closure_reference(index) in its place; only this session can evaluate it.
struct OperationClosure {
  Value closure;
  std::string operation;
  std::string field;
};

/// The workflow to work on: the file argument, else the record piped in.
struct WorkflowSource {
  Datum document;
  std::string origin;
  bool from_file = false;
  std::vector<OperationClosure> closures;  ///< by reference index
};

/// Moves the closures of `nu` operations' code and rollback out of `workflow` into `out`,
/// leaving references in their place.
void take_closures(Value& workflow, std::vector<OperationClosure>& out) {
  if (!workflow.is(Value::Type::Record)) return;
  Value* ops = nullptr;
  for (auto& [k, v] : workflow.as_record())
    if (k == "operations") ops = &v;
  if (!ops || !ops->is(Value::Type::List)) return;
  for (Value& op : ops->as_list()) {
    if (!op.is(Value::Type::Record)) continue;
    const Value* kind = op.get("kind");
    if (!kind || !kind->is(Value::Type::String) || kind->as_string() != "nu") continue;
    const Value* id = op.get("id");
    std::string op_id = id && id->is(Value::Type::String) ? id->as_string() : std::string();
    const Value* code = op.get("code");
    if (code && code->is(Value::Type::Closure))
      for (const char* field : {"cwd", "env"})
        if (const Value* f = op.get(field))
          throw labeled("Operation " + op_id + ": `" + field + "` does not apply to a closure",
                        "a closure runs in this Nu session's own directory and environment", f->span,
                        "provisioning::workflow::closure_process_field",
                        "drop `" + std::string(field) + "`, or give `code` as a string to run it in its own nu process");
    for (auto& [k, v] : op.as_record()) {
      if ((k != "code" && k != "rollback") || !v.is(Value::Type::Closure)) continue;
      Value ref = to_value(closure_reference(static_cast<int64_t>(out.size())), v.span);
      out.push_back({std::move(v), op_id, k});
      v = std::move(ref);
    }
  }
}

WorkflowSource workflow_document(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input);

/// --vars: variables for {{vars.<name>}}, over the workflow's own `vars` table.
Flag vars_flag() {
  return {"vars", std::nullopt, shape::record(),
          "Variables for {{vars.<name>}} placeholders, over the workflow's own `vars` table", false};
}

/// The workflow with the --vars record laid over its `vars` table (so the journal keeps them).
void apply_vars_flag(const EvaluatedCall& call, Datum& document) {
  const Value* v = call.flag_value("vars");
  if (!v || v->is(Value::Type::Nothing) || !document.is_record()) return;
  if (!v->is(Value::Type::Record))
    throw labeled("--vars must be a record", "expected a record, got " + v->type_name(), v->span,
                  "provisioning::input::wrong_type", "for example: --vars {port: 8080}");
  Datum* vars = document.find("vars");
  if (!vars || !vars->is_record()) {
    document.set("vars", DatumRecord{});
    vars = document.find("vars");
  }
  const Datum given = to_datum(*v, "");
  for (const auto& [k, value] : given.record()) vars->set(k, value);
}

WorkflowSource workflow_source(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) {
  WorkflowSource src = workflow_document(engine, call, input);
  apply_vars_flag(call, src.document);
  return src;
}

/// The path of the workflow file argument; nullopt when none is given.
std::optional<std::string> workflow_path_arg(EngineInterface& engine, const EvaluatedCall& call) {
  if (call.positional.empty() || call.positional[0].is(Value::Type::Nothing)) return std::nullopt;
  const Value& arg = call.positional[0];
  if (!arg.is(Value::Type::String) && !arg.is(Value::Type::Glob))
    throw labeled("The workflow must be a file path", "expected a path, got " + arg.type_name(), arg.span,
                  "provisioning::input::wrong_type");
  return workflow_file(engine, call, arg);
}

/// The workflow document from the file argument or the pipeline, as given.
WorkflowSource workflow_document(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) {
  WorkflowSource src;
  if (std::optional<std::string> path = workflow_path_arg(engine, call)) {
    try {
      src.document = load_workflow_file(*path);
    } catch (prov::Error& e) {
      e.blamed_on(Blame::argument("workflow"));
      throw;
    }
    src.origin = *path;
    src.from_file = true;
    return src;
  }
  if (input.is_empty())
    throw labeled("No workflow given", "give a workflow file, or pipe a workflow record into this command",
                  call.head, "provisioning::workflow::missing",
                  "for example: prov workflow plan workflows/deploy.toml");
  Value v = input.collect();
  if (!v.is(Value::Type::Record))
    throw labeled("A workflow must be a record", "expected a record, got " + v.type_name(), input.span(),
                  "provisioning::workflow::wrong_type", "a workflow has name, settings and operations");
  take_closures(v, src.closures);
  src.document = to_datum(v, "");
  src.origin = "pipeline input";
  return src;
}

/// Parses and checks the workflow; errors point at the file argument or the input.
WorkflowSpec parse_source(const WorkflowSource& src, Dag& dag) {
  try {
    return parse_workflow(src.document, src.origin, &dag);
  } catch (prov::Error& e) {
    if (src.from_file) e.blamed_on(Blame::argument("workflow"));
    throw;
  }
}

struct Workspace {
  prov::Config config;
  std::shared_ptr<WorkflowStore> store;
};

/// What `preflight` returns; its errors point at the file argument when `from_file`.
template <class Preflight>
WorkflowSpec blamed_preflight(bool from_file, Preflight&& preflight) {
  try {
    return preflight();
  } catch (prov::Error& e) {
    if (from_file) {
      // Each problem is the file's: every label points at the argument, none at an input.
      std::vector<prov::Error> related = e.related();
      for (prov::Error& r : related) r.blamed_on(Blame::argument("workflow"));
      e.blamed_on(Blame::argument("workflow")).with_related(std::move(related));
    }
    throw;
  }
}

/// The workflow as its run will see it: parsed over the workspace's run settings and checked
/// against the workspace (core/engine/preflight.hpp), every problem at once; errors point at
/// the file argument or the input.
template <class Source>
WorkflowSpec checked_spec(Source&& src, const prov::Config& config, Dag& dag) {
  const PreflightContext ctx{config.workspace, &config.all(), hosting_nu(config)};
  return blamed_preflight(
      src.from_file, [&] { return preflight_workflow(std::forward<Source>(src).document, src.origin, ctx, &dag); });
}

/// checked_spec of a workflow file read by read_workflow_file (for planning: a streamed
/// file's operations keep only what the preflight reads).
WorkflowSpec checked_file_spec(WorkflowFile&& file, const prov::Config& config, Dag& dag) {
  const PreflightContext ctx{config.workspace, &config.all(), hosting_nu(config)};
  const std::string origin = file.path;
  return blamed_preflight(true, [&] { return preflight_workflow_file(std::move(file), origin, ctx, &dag); });
}

Workspace open_workspace(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::shared_ptr<WorkflowStore> store = open_store(cfg);
  return {std::move(cfg), std::move(store)};
}

std::string workflow_id_arg(const EvaluatedCall& call) {
  if (call.positional.empty() || !call.positional[0].is(Value::Type::String))
    throw labeled("Missing the workflow id", "needs an id such as wf-20261126-203000-1a2b3c", call.head,
                  "provisioning::input::missing_argument", "`prov workflow list` shows the ids");
  return call.positional[0].as_string();
}

/// Checks `id` with the label on the id argument.
void check_id(const WorkflowStore& store, const std::string& id) {
  try {
    store.check_workflow_id(id);
  } catch (prov::Error& e) {
    e.blamed_on(Blame::argument("id"));
    throw;
  }
}

std::optional<int> parallel_flag(const EvaluatedCall& call) {
  const Value* p = call.flag_value("parallel");
  if (!p) return std::nullopt;
  if (!p->is(Value::Type::Int) || p->as_int() < 1 || p->as_int() > 4096)
    throw labeled("--parallel must be a whole number from 1 to 4096", "not a valid limit", p->span,
                  "provisioning::input::bad_value");
  return static_cast<int>(p->as_int());
}

Value event_value(const Event& e, Span h) { return to_value(e.to_datum(), h); }

/// True when --queue was given: the workflow is left to the agents of the workspace's shared
/// store. Refused on a store of one host, where no agent would ever take it.
bool queue_flag(const EvaluatedCall& call, const WorkflowStore& store) {
  if (!call.has_flag("queue")) return false;
  const Value* q = call.flag_value("queue");
  if (store.runner_locator().rfind("etcd:", 0) != 0)
    throw labeled("--queue leaves the workflow to an agent, and " + store.describe() + " belongs to this host only",
                  "no agent can take it", q ? q->span : call.head, "provisioning::agent::needs_shared_store",
                  "set state.backend = \"etcd\" and state.etcd.endpoints in the workspace's configuration "
                  "(README: Shared state on etcd), or submit without --queue");
  return true;
}

/// Submits: records the workflow durably and starts its runner. Returns the id. When the
/// workflow has closures, `channel` gets the socket they are evaluated through, listening
/// before the runner starts.
std::string submit(EngineInterface& engine, const EvaluatedCall& call, const Workspace& ws, const WorkflowSource& src,
                   const WorkflowSpec&, std::unique_ptr<ClosureChannelServer>* channel = nullptr,
                   std::function<void(const std::string&)> before_launch = {}) {
  SubmitRequest req;
  req.env = engine_environment(engine);  // before anything is written
  req.workspace = ws.config.workspace;
  req.document = src.document;
  req.origin = src.origin;
  // The runner runs with this command's configuration; --env is journaled too, as the variable
  // it stands for in its operations' environment.
  if (const Value* e = call.flag_value("env"); e && e->is(Value::Type::String)) req.provisioning_env = e->as_string();
  req.parallel = parallel_flag(call).value_or(0);
  req.nu_path = hosting_nu(ws.config);
  req.runner_exe = self_exe();
  if (channel && !src.closures.empty())
    req.before_launch = [&](const std::string& id) {
      *channel = std::make_unique<ClosureChannelServer>(ws.store->local_files(id).closure_socket);
    };
  else if (before_launch)
    req.before_launch = std::move(before_launch);
  req.launch = !queue_flag(call, *ws.store);
  return submit_workflow(*ws.store, ws.config.merged, req);
}

bool runner_alive(const WorkflowStore& store, const std::string& id) { return store.claim_holder(id).has_value(); }

/// What `prov workflow run` adds to following: the --on-event closure, the closures of the
/// workflow's operations and the channel the runner asks for them through, a progress line.
struct FollowExtras {
  std::optional<Value> on_event;
  std::vector<OperationClosure> closures;
  std::unique_ptr<ClosureChannelServer> channel;
  size_t total = 0;       ///< operations, for the progress line
  bool progress = false;  ///< draw the progress line (stderr is a terminal)
  bool allow_failure = false;  ///< --allow-failure: a workflow that fails ends the stream without an error
  std::function<void()> at_end;  ///< once the workflow has ended and its runner let go
};


/// Operations that failed, each with its last message, as events tell them: a later success
/// (a resumed run) takes an operation off.
using Failures = std::vector<std::pair<std::string, std::string>>;
void note_failure(Failures& failures, const Event& e) {
  if (!e.operation || (e.type != event_type::operation_failed && e.type != event_type::operation_succeeded)) return;
  std::erase_if(failures, [&](const auto& f) { return f.first == *e.operation; });
  if (e.type == event_type::operation_failed) failures.emplace_back(*e.operation, e.message.value_or("failed"));
}

/// The error a stream ends with when workflow `id` ended as `status` (nullopt: no error).
/// `failures` are the operations that failed, with their last message; `rollback` says the
/// stream was of a rollback, whose success is a rolled-back workflow.
/// `cause` is why a rollback ran (failed, cancelled, requested), as the terminal event says.
std::optional<LabeledError> outcome_error(const std::string& id, const std::string& status, const std::string& cause,
                                          const Failures& failures, bool rollback, Span h) {
  const bool ok = status == "completed" || (rollback && status == "rolled_back");
  if (ok || status.empty()) return std::nullopt;
  LabeledError err;
  err.code = "provisioning::workflow::" + status;
  std::string what;
  for (const auto& [op, message] : failures) what += (what.empty() ? "" : "; ") + op + ": " + message;
  const std::string how = status == "rolled_back"       ? (cause == "cancelled" ? "was cancelled and rolled back"
                                                                                : "failed and was rolled back")
                          : status == "rollback_failed" ? "failed, and its rollback failed too"
                          : status == "cancelled"       ? "was cancelled"
                          : status == "interrupted"     ? "was interrupted: its runner ended before it did"
                                                        : status;
  err.msg = "Workflow " + id + " " + how + (what.empty() ? std::string() : " (" + what + ")");
  err.labels.push_back({"this workflow did not complete", h});
  err.help = (failures.empty() ? "`prov workflow logs " + id + "` shows its events"
                               : "`prov workflow logs " + id + " --output " + failures.front().first +
                                     "` shows what it printed") +
             "; --allow-failure leaves this error out";
  return err;
}

/// Evaluates operation closure `req.ref` for the runner; its output becomes text for the log.
ClosureReply eval_operation_closure(EngineInterface& engine, const std::vector<OperationClosure>& closures,
                                    const ClosureRequest& req, Span h) {
  ClosureReply r;
  if (req.ref < 0 || static_cast<size_t>(req.ref) >= closures.size()) {
    r.message = "no closure " + std::to_string(req.ref) + " in this session";
    return r;
  }
  try {
    Value input = to_value(req.input, h);
    std::vector<Value> args;
    if (!input.is(Value::Type::Nothing)) args.push_back(input);
    Value out = engine.eval_closure(closures[req.ref].closure, std::move(args), std::move(input));
    r.ok = true;
    if (out.is(Value::Type::String)) r.output = out.as_string();
    else if (!out.is(Value::Type::Nothing)) r.output = encode_json(to_datum(out, "the closure's output"));
  } catch (const LabeledErrorException& e) {
    r.message = e.error().msg;
    for (const auto& l : e.error().labels)
      if (!l.text.empty()) r.message += ": " + l.text;
  } catch (const std::exception& e) {
    r.message = e.what();
  }
  return r;
}

/// Streams workflow `id`'s events from the start of its log until the run (or the rollback)
/// ends. Ctrl-C cancels the workflow once; dropping the stream leaves the workflow running. It
/// waits on notifications (the store's EventFeed, which for the file store wakes on the
/// workflow's folder and its runner's exit; Ctrl-C; the closure socket), never by polling the
/// log; the runner held the workflow before this starts (launch_runner), so a runner that has
/// let go has ended.
PipelineOutput follow(EngineInterface& engine, std::shared_ptr<WorkflowStore> store, std::string id, bool rollback,
                      Span h, size_t skip_existing = 0, FollowExtras extras = {}) {
  struct Follower {
    std::shared_ptr<WorkflowStore> store;
    std::string id;
    std::unique_ptr<EventFeed> feed;
    std::deque<Event> pending;
    bool done = false;
    bool cancel_sent = false;
    size_t skip;
    FollowExtras extras;
    WorkflowProgress progress;
    ProgressLine line;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    Failures failures = {};  ///< failed operations, last message
    std::optional<LabeledError> outcome = {};  ///< the error the stream ends with, once known

    /// Takes `e` into account for the outcome: which operations failed, and why.
    void note(const Event& e) { note_failure(failures, e); }
  };
  const size_t total = extras.total;
  const bool draw = extras.progress;
  auto f = std::make_shared<Follower>(Follower{store, id, store->follow(id), {}, false, false, skip_existing,
                                               std::move(extras), WorkflowProgress(total), ProgressLine(draw)});
  f->feed->watch_runner(id);
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  PipelineOutput out = PipelineOutput::stream(
      [f, &engine, rollback, h, dropped]() -> std::optional<Value> {
        while (true) {
          if (*dropped) {
            // Nobody reads on: this session's closures can no longer be evaluated.
            f->extras.channel.reset();
            f->line.clear();
            return std::nullopt;
          }
          if (!f->pending.empty()) {
            Event e = std::move(f->pending.front());
            f->pending.pop_front();
            f->note(e);
            // A rollback ends with a terminal event too (rolled_back or rollback_failed).
            if (is_terminal(e)) {
              f->done = true;
              auto detail = [&](const char* key) {
                const Datum* d = e.details ? e.details->find(key) : nullptr;
                return d && d->is_string() ? d->str() : std::string();
              };
              if (!f->extras.allow_failure)
                f->outcome = outcome_error(f->id, detail("status"), detail("cause"), f->failures, rollback, h);
            }
            f->progress.observe(e);
            f->line.clear();
            Value v = event_value(e, h);
            if (f->extras.on_event) {
              try {
                engine.eval_closure(*f->extras.on_event, {v}, v);
              } catch (const LabeledErrorException& x) {
                f->done = true;
                LabeledError err;
                err.msg = "The --on-event closure failed on the " + e.type + " event";
                err.labels.push_back({x.error().msg, f->extras.on_event->span});
                err.code = "provisioning::workflow::on_event_failed";
                err.help = "the stream stopped here; workflow " + f->id +
                           " goes on without it: `prov workflow status " + f->id + "`, `prov workflow cancel " +
                           f->id + "`";
                err.inner.push_back(x.error());
                return Value::error(err, h);
              }
            }
            return v;
          }
          if (f->done) {
            f->line.clear();
            // The runner still folds its journal into a checkpoint after the last event: end
            // the stream once it has let go, so a command right after sees a settled workflow.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (runner_alive(*f->store, f->id) && std::chrono::steady_clock::now() < deadline)
              f->feed->wait(std::chrono::milliseconds(200));
            if (auto at_end = std::exchange(f->extras.at_end, nullptr)) {
              try {
                at_end();
              } catch (const prov::Error& x) {
                f->outcome.reset();
                LabeledError err;
                err.msg = x.what();
                err.labels.push_back({"after this workflow ended", h});
                err.code = x.code();
                err.help = x.help();
                return Value::error(err, h);
              }
            }
            // A workflow that did not complete fails the pipeline (and `nu -c`), as make does.
            if (f->outcome) {
              LabeledError err = std::move(*f->outcome);
              f->outcome.reset();
              return Value::error(err, h);
            }
            return std::nullopt;
          }
          if (engine.interrupted() && !f->cancel_sent) {
            f->cancel_sent = true;
            signal_runner(*f->store, f->id);
          }
          if (f->extras.channel) {
            auto& closures = f->extras.closures;
            f->extras.channel->serve_one([&](const ClosureRequest& req) {
              f->line.clear();
              return eval_operation_closure(engine, closures, req, h);
            });
          }
          // Whether anyone still writes, asked before reading: a runner that lets go after
          // this has written all it will by then.
          const bool alive = runner_alive(*f->store, f->id);
          const auto take = [&](std::vector<Event> more) {
            for (auto& e : more) {
              if (f->skip > 0) {  // streamed by an earlier session; it still counts for progress
                --f->skip;
                f->progress.observe(e);
                f->note(e);
                continue;
              }
              f->pending.push_back(std::move(e));
            }
          };
          take(f->feed->poll());
          if (!f->pending.empty()) continue;
          f->line.draw(f->progress.line(Duration{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                     std::chrono::steady_clock::now() - f->start)
                                                     .count()}));
          if (!alive) {
            // What the runner wrote before it let go may not have reached the feed yet.
            take(f->feed->poll_settled());
            if (!f->pending.empty()) continue;
          }
          // On a shared store, live agents take over a workflow whose runner was lost (its host
          // died): not its end, so the stream follows the agent's run, as `wait` does.
          if (!alive && !engine.interrupted() && !f->store->storage_problem() && !f->store->list_agents().empty()) {
            f->feed->wait(std::chrono::milliseconds(f->line.enabled() ? 200 : 1000),
                          {engine.signals().wake_fd(), f->extras.channel ? f->extras.channel->fd() : -1});
            continue;
          }
          if (!alive) {
            f->done = true;
            f->line.clear();
            LabeledError err;
            err.msg = "The runner of workflow " + f->id + " ended before the workflow did";
            err.labels.push_back({"while following this workflow", h});
            err.code = "provisioning::workflow::runner_gone";
            err.help = "see " + f->store->local_files(f->id).runner_log + "; `prov workflow resume " + f->id +
                       "` continues it";
            // A runner stops when it cannot journal; a full or read-only disk says why.
            if (auto problem = f->store->storage_problem()) {
              err.msg = "Workflow " + f->id + " stopped: " + problem->what();
              err.code = problem->code();
              err.help = problem->help() + "; `prov workflow resume " + f->id + "` continues it";
            }
            return Value::error(err, h);
          }
          // Until the log grows, the runner ends, Ctrl-C, or a closure request; the timeout
          // only redraws the progress line's clock and notices a dropped stream.
          f->feed->wait(std::chrono::milliseconds(f->line.enabled() ? 200 : 1000),
                        {engine.signals().wake_fd(), f->extras.channel ? f->extras.channel->fd() : -1});
        }
      },
      h);
  out.dropped = std::move(dropped);
  return out;
}

Value status_value(const WorkflowStore& store, const std::string& id, Span h) {
  return to_value(workflow_status(store, id).to_datum(), h);
}

/// Workflow ids for the id argument; the shared flags otherwise.
Suggestions complete_id(EngineInterface& engine, const GetCompletionInfo& info) {
  if (asks_positional(info, 0)) return workflow_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

}  // namespace

// ---- prov workflow ------------------------------------------------------------------------

// ---- plan ---------------------------------------------------------------------------------

Signature WorkflowPlanCommand::signature() const {
  Signature s;
  s.name = "prov workflow plan";
  s.description = "The execution order of a workflow: step, level, id, kind, depends_on, implicit.";
  s.extra_description =
      "Checks everything a run would refuse and reports every problem at once: the workflow's fields, its graph, "
      "the workspace's run settings and [limits], file.write paths outside the workspace, server.* operations' "
      "providers, and Nu code that Nu's parser rejects. Nothing runs.\n\n" + std::string(kRelativePaths) +
      "\n\n"
      "Operation kinds and their fields (* required; every operation also takes id*, kind*, depends_on, retry, "
      "timeout): " +
      [] {
        std::string kinds;
        for (const KindDecl& k : kind_decls()) kinds += (kinds.empty() ? "" : "; ") + kind_synopsis(k);
        return kinds;
      }() + ".";
  s.search_terms = {"order", "topological", "validate", "check", "dry-run"};
  s.optional = {workflow_arg()};
  s.named = with({config_flag(), vars_flag()});
  s.input_output_types = {{type::nothing(), type::table()}, {type::record(), type::table()}};
  s.examples = {
      {"prov workflow plan workflows/deploy.toml | select id level",
       "The order the example deployment runs in; operations of one level may run at once",
       table({"id", "level"}, {{Value::string("render-config"), Value::integer(0)},
                               {Value::string("check-host"), Value::integer(0)},
                               {Value::string("fetch-artifact"), Value::integer(1)},
                               {Value::string("count-servers"), Value::integer(1)},
                               {Value::string("build-image"), Value::integer(2)},
                               {Value::string("announce"), Value::integer(3)}})},
      {"{name: two, operations: [{id: a, kind: command, run: [echo a]}, "
       "{id: b, kind: command, run: [echo b], depends_on: [a]}]} "
       "| prov workflow plan | get id",
       "Plan a workflow record", Value::list({Value::string("a"), Value::string("b")})},
  };
  return s;
}

namespace {
/// Row `k` of the plan: step, level, id, kind, depends_on, implicit.
Value plan_row(const WorkflowSpec& spec, const Dag& dag, const Plan& plan, size_t k, Span h) {
  PlanStep st = plan_step(spec, dag, plan, k);
  auto ids = [h](std::vector<std::string>& list) {
    std::vector<Value> out;
    out.reserve(list.size());
    for (auto& d : list) out.push_back(Value::string(std::move(d), h));
    return Value::list(std::move(out), h);
  };
  return Value::record({{"step", Value::integer(static_cast<int64_t>(st.step), h)},
                        {"level", Value::integer(static_cast<int64_t>(st.level), h)},
                        {"id", Value::string(std::move(st.id), h)},
                        {"kind", Value::string(std::move(st.kind), h)},
                        {"depends_on", ids(st.depends_on)},
                        {"implicit", ids(st.implicit)}},
                       h);
}

Value plan_value(const WorkflowSpec& spec, const Dag& dag, const Plan& plan, Span h) {
  std::vector<Value> rows;
  rows.reserve(plan.order.size());
  for (size_t k = 0; k < plan.order.size(); ++k) rows.push_back(plan_row(spec, dag, plan, k, h));
  return Value::list(std::move(rows), h);
}

/// The plan's rows as a list stream, made as the engine takes them: Nu decodes rows while
/// later ones are made, and no table of every row is held on either side. Stops early when
/// the engine drops the stream.
PipelineOutput plan_stream(WorkflowSpec spec, Dag dag, Plan plan, Span h) {
  /// Declared first, so destroyed last: once the big plan is freed, its pages go back to the
  /// system instead of staying resident in the idle plugin.
  struct TrimWhenFreed {
    ~TrimWhenFreed() { ::malloc_trim(0); }
  };
  struct Rows {
    TrimWhenFreed trim;
    WorkflowSpec spec;
    Dag dag;
    Plan plan;
    size_t next = 0;
  };
  auto rows = std::make_shared<Rows>(Rows{{}, std::move(spec), std::move(dag), std::move(plan)});
  return PipelineOutput::ready_stream(
      [rows, h]() -> std::optional<Value> {
        if (rows->next == rows->plan.order.size()) return std::nullopt;
        return plan_row(rows->spec, rows->dag, rows->plan, rows->next++, h);
      },
      h);
}
}  // namespace

Suggestions WorkflowPlanCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_workflow_arg(engine, info);
}

PipelineOutput WorkflowPlanCommand::run(EngineInterface& engine, const EvaluatedCall& call,
                                        PipelineInput& input) const {
  Dag dag;
  WorkflowSpec spec;
  if (std::optional<std::string> path = workflow_path_arg(engine, call)) {
    // Read one operation at a time: a large workflow is never held whole.
    WorkflowFile file;
    try {
      file = read_workflow_file(*path, preflight_fields());
    } catch (prov::Error& e) {
      e.blamed_on(Blame::argument("workflow"));
      throw;
    }
    apply_vars_flag(call, file.document);
    const prov::Config config = load_workspace_config(engine, call, nullptr);
    spec = checked_file_spec(std::move(file), config, dag);
  } else {
    WorkflowSource src = workflow_source(engine, call, input);
    const prov::Config config = load_workspace_config(engine, call, nullptr);
    spec = checked_spec(std::move(src), config, dag);
  }
  Plan plan = make_plan(spec, dag);
  return plan_stream(std::move(spec), std::move(dag), std::move(plan), call.head);
}

// ---- graph --------------------------------------------------------------------------------

Signature WorkflowGraphCommand::signature() const {
  Signature s;
  s.name = "prov workflow graph";
  s.description = "A workflow's dependency graph as Graphviz DOT, Mermaid text or an SVG picture.";
  s.extra_description =
      "SVG is laid out by Graphviz's `dot`, found on $env.PATH (Debian package graphviz); DOT and Mermaid need "
      "nothing installed.";
  s.search_terms = {"dot", "graphviz", "mermaid", "svg", "dag", "picture"};
  s.optional = {workflow_arg()};
  s.named = {{"format", std::nullopt, shape::string(), "dot (default), mermaid or svg", false}};
  s.input_output_types = {{type::nothing(), type::string()}, {type::record(), type::string()}};
  s.examples = {
      {"prov workflow graph workflows/deploy.toml | save -f deploy.dot; open deploy.dot | lines | first",
       "DOT for Graphviz, saved to a file", Value::string("digraph \"deploy-atlas\" {")},
      {"prov workflow graph --format mermaid workflows/deploy.toml", "Mermaid for Markdown",
       Value::string("flowchart TD\n"
                     "  %% workflow deploy-atlas\n"
                     "  %% level 0\n"
                     "  n0[\"render-config<br/>file.write\"]\n"
                     "  n1[\"check-host<br/>command\"]\n"
                     "  %% level 1\n"
                     "  n2[\"fetch-artifact<br/>command\"]\n"
                     "  n4[\"count-servers<br/>nu\"]\n"
                     "  %% level 2\n"
                     "  n3[\"build-image<br/>command\"]\n"
                     "  %% level 3\n"
                     "  n5[\"announce<br/>command\"]\n"
                     "  n1 --> n2\n"
                     "  n0 --> n4\n"
                     "  n2 --> n3\n"
                     "  n3 --> n5\n"
                     "  n4 --> n5\n")},
  };
  return s;
}

Suggestions WorkflowGraphCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_flag(info, "format"))
    return fixed({{"dot", "Graphviz DOT"}, {"mermaid", "Mermaid flowchart"}, {"svg", "an SVG picture (needs Graphviz)"}});
  return complete_workflow_arg(engine, info);
}

PipelineOutput WorkflowGraphCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  std::string format = "dot";
  const Value* format_flag = call.flag_value("format");
  if (format_flag) {
    const Value* f = format_flag;
    if (!f->is(Value::Type::String) ||
        (f->as_string() != "dot" && f->as_string() != "mermaid" && f->as_string() != "svg"))
      throw labeled("Unknown graph format", "use dot, mermaid or svg", f->span, "provisioning::input::bad_value",
                    "--format dot (Graphviz text), --format mermaid or --format svg (a picture, through dot)");
    format = f->as_string();
  }
  WorkflowSource src = workflow_source(engine, call, input);
  Dag dag;
  WorkflowSpec spec = parse_source(src, dag);
  Plan plan = make_plan(spec, dag);
  if (format == "mermaid") return PipelineOutput::of(Value::string(render_mermaid(spec, dag, plan), call.head));
  std::string dot = render_dot(spec, dag, plan);
  if (format == "dot") return PipelineOutput::of(Value::string(std::move(dot), call.head));
  std::string dot_program;
  try {
    dot_program = find_dot(engine_path(engine), engine.get_current_dir());
  } catch (LabeledErrorException&) {
    throw;
  } catch (prov::Error& e) {
    throw labeled(e.what(), "SVG needs Graphviz", format_flag->span, e.code(), e.help());
  }
  // A picture goes out as bytes with its content type, as `open picture.svg` would give it.
  return PipelineOutput::text_bytes(render_svg(dot, dot_program), call.head, "image/svg+xml");
}

// ---- run / submit -------------------------------------------------------------------------

Signature WorkflowRunCommand::signature() const {
  Signature s;
  s.name = "prov workflow run";
  s.description = "Run a workflow now and stream its events as they happen.";
  s.extra_description =
      "The workflow runs in a background runner: cutting the stream short (`| first 3`) stops the stream, not the "
      "workflow. Ctrl-C cancels the workflow (its processes get SIGTERM, then SIGKILL) and rolls back if enabled. "
      "The last event is workflow_completed, workflow_failed or workflow_cancelled with a summary. A workflow "
      "that does not complete (failed, cancelled, rolled back) then ends the stream with an error, "
      "provisioning::workflow::<status>, naming each failed operation and its message: the pipeline fails, and so "
      "does `nu -c`, as make does; --allow-failure streams the events without it. On a shared store (etcd) with "
      "live agents, a runner lost with its host does not end the stream: it follows the agent that takes the "
      "workflow over.\n\n" + std::string(kRelativePaths) +
      "\n\n"
      "--on-event calls the closure for every event, in order, before the event goes down the pipeline; the "
      "event is its argument and its input (like `each`), its output is discarded. If the closure fails, the "
      "stream ends with that error (provisioning::workflow::on_event_failed) and the closure is not called again; "
      "the workflow itself goes on, as when the stream is cut short.\n\n"
      "In a piped record, a `nu` operation's `code` (or `rollback`) may be a closure: this Nu session evaluates it "
      "(in its own directory and environment, so such an operation takes no `cwd` or `env`; the operation's "
      "`input` is its argument and input) while the "
      "command's stream is read; its output goes to the operation's log. Closures cannot be journaled: if this "
      "session is gone when the operation runs (the stream was cut short, Nu exited, or a later `prov workflow "
      "resume`), the operation fails with provisioning::operation::closure_session_gone.\n\n"
      "When stderr is a terminal, a progress line (done/total, running, failed, elapsed) is drawn there and "
      "cleared at the end.";
  s.search_terms = {"execute", "start", "deploy", "apply"};
  s.optional = {workflow_arg()};
  s.named = with({{"parallel", 'j', shape::integer(), "At most this many operations at once (-j, as make's)", false},
                  config_flag(),
                  vars_flag(),
                  {"dry-run", std::nullopt, std::nullopt, "Validate and plan only; nothing runs", false},
                  allow_failure_flag(),
                  {"on-event", std::nullopt, shape::closure(),
                   "A closure called with each event, in order, before it is streamed", false}});
  s.input_output_types = {{type::nothing(), type::list(type::record())}, {type::record(), type::list(type::record())}};
  s.examples = {
      {"prov workflow run workflows/deploy.toml | last | select type status succeeded failed",
       "Run the example deployment; the last event sums it up",
       Value::record({{"type", Value::string("workflow_completed")},
                      {"status", Value::string("completed")},
                      {"succeeded", Value::integer(6)},
                      {"failed", Value::integer(0)}})},
      {"prov workflow run --allow-failure workflows/broken.toml | where type =~ failed | select type operation? "
       "status?",
       "Only the failures: `migrate` fails after its retry, and what had completed is rolled back",
       table({"type", "operation", "status"},
             {{Value::string("operation_failed"), Value::string("migrate"), Value::nothing()},
              {Value::string("workflow_failed"), Value::nothing(), Value::string("rolled_back")}})},
      {"prov workflow run --allow-failure workflows/broken.toml --on-event {|e| if $e.type == operation_failed { "
       "$\"($e.operation)\\n\" "
       "| save --append failed.txt } } | ignore; open failed.txt | lines",
       "Act on each event as it happens: here, note every failed operation in a file", strings({"migrate"})},
      {"{name: w, operations: [{id: greet, kind: nu, input: {who: ada}, code: {|x| $'hello ($x.who)' }}]} "
       "| prov workflow run | last | get type",
       "A closure as an operation's code, evaluated by this session; `prov workflow logs <id> --output greet` "
       "shows its output",
       Value::string("workflow_completed")},
      {"prov workflow run --dry-run workflows/deploy.toml | length", "Check and plan without running",
       Value::integer(6)},
      {"{name: refs, operations: [{id: port, kind: command, run: [echo 8080]}, "
       "{id: url, kind: nu, input: '{{ops.port.out}}', code: '$\"http://localhost:($in){{vars.path}}\"'}]} "
       "| prov workflow run --vars {path: /v2} | where type == operation_succeeded | get out",
       "One operation's result in another's fields: `url` waits for `port` and gets its stdout; --vars fills "
       "{{vars.<name>}}",
       strings({"8080", "http://localhost:8080/v2"})},
  };
  return s;
}

Suggestions WorkflowRunCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_workflow_arg(engine, info);
}

PipelineOutput WorkflowRunCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  parallel_flag(call);
  WorkflowSource src = workflow_source(engine, call, input);
  FollowExtras extras;
  if (const Value* c = call.flag_value("on-event")) {
    if (!c->is(Value::Type::Closure))
      throw labeled("--on-event takes a closure", "expected a closure, got " + c->type_name(), c->span,
                    "provisioning::input::wrong_type", "for example: --on-event {|e| print $e.type }");
    extras.on_event = *c;
  }
  Dag dag;
  if (call.has_flag("dry-run")) {
    WorkflowSpec spec = checked_spec(src, load_workspace_config(engine, call, nullptr), dag);
    return PipelineOutput::of(plan_value(spec, dag, make_plan(spec, dag), call.head));
  }
  Workspace ws = open_workspace(engine, call);
  WorkflowSpec spec = checked_spec(src, ws.config, dag);
  std::string id = submit(engine, call, ws, src, spec, &extras.channel);
  extras.closures = std::move(src.closures);
  extras.total = spec.operations.size();
  extras.allow_failure = call.has_flag("allow-failure");
  extras.progress = ProgressLine::stderr_is_terminal();
  return follow(engine, ws.store, id, false, call.head, 0, std::move(extras));
}

Signature WorkflowSubmitCommand::signature() const {
  Signature s;
  s.name = "prov workflow submit";
  s.description = "Start a workflow in the background and return its id at once.";
  s.extra_description =
      "It keeps running after this Nu session ends; follow it with `prov workflow status` and `logs`. With --queue "
      "(a workspace on the etcd store) no runner starts here: the workflow stays pending until one of the "
      "workspace's agents takes it.";
  s.search_terms = {"background", "async", "detach", "queue"};
  s.optional = {workflow_arg()};
  s.named = with({{"parallel", 'j', shape::integer(), "At most this many operations at once (-j, as make's)", false},
                  {"queue", std::nullopt, std::nullopt,
                   "Start no runner here: leave the workflow pending for an agent of the shared (etcd) store",
                   false},
                  config_flag(),
                  vars_flag()});
  s.input_output_types = {{type::nothing(), type::record()}, {type::record(), type::record()}};
  s.examples = {{"prov workflow submit workflows/deploy.toml | columns",
                 "Start the example deployment in the background; the answer names it at once",
                 strings({"workflow_id", "status"})}};
  return s;
}

Suggestions WorkflowSubmitCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_workflow_arg(engine, info);
}

PipelineOutput WorkflowSubmitCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  parallel_flag(call);
  WorkflowSource src = workflow_source(engine, call, input);
  if (!src.closures.empty()) {
    const OperationClosure& c = src.closures.front();
    throw labeled("Operation '" + c.operation + "' has a closure as its " + c.field +
                      "; a submitted workflow cannot run closures",
                  "this closure lives in this Nu session only", c.closure.span,
                  "provisioning::workflow::closure_in_background",
                  "a background runner has no Nu session to evaluate it: run it with `prov workflow run`, or give "
                  "the code as a string");
  }
  Workspace ws = open_workspace(engine, call);
  Dag dag;
  WorkflowSpec spec = checked_spec(src, ws.config, dag);
  std::string id = submit(engine, call, ws, src, spec);
  std::string status = workflow_status(*ws.store, id).status;
  return PipelineOutput::of(
      Value::record({{"workflow_id", Value::string(id, call.head)}, {"status", Value::string(status, call.head)}},
                    call.head));
}

// ---- list / status / logs -----------------------------------------------------------------

Signature WorkflowListCommand::signature() const {
  Signature s;
  s.name = "prov workflow list";
  s.description = "Every workflow of the workspace, newest first, with its status.";
  s.search_terms = {"history", "runs", "ls"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {{"prov workflow list | where status != completed | select name status",
                 "The workflows that did not complete (the example workspace after running both workflows)",
                 table({"name", "status"}, {{Value::string("broken-release"), Value::string("rolled_back")}})}};
  return s;
}

PipelineOutput WorkflowListCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  Workspace ws = open_workspace(engine, call);
  std::vector<Value> rows;
  for (const auto& id : ws.store->list_workflows()) {
    try {
      rows.push_back(status_value(*ws.store, id, call.head));
    } catch (const prov::Error& e) {
      // A corrupt journal is not hidden: `prov workflow repair` is the way out.
      const bool corrupt = e.code() == "provisioning::state::corrupt_journal";
      rows.push_back(Value::record({{"workflow_id", Value::string(id, call.head)},
                                    {"status", Value::string(corrupt ? "corrupt" : "unreadable", call.head)},
                                    {"problem", Value::string(e.what(), call.head)}},
                                   call.head));
    }
  }
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

Signature WorkflowStatusCommand::signature() const {
  Signature s;
  s.name = "prov workflow status";
  s.description = "How a workflow stands: status, counts of operations, times, runner.";
  s.extra_description =
      "Status is pending, running, completed, failed, cancelled, rolled_back (`cause` says why: failed, cancelled "
      "or requested), rollback_failed (`undo_failed` names the steps not undone; `prov workflow rollback` retries "
      "them), or interrupted (its runner died: `prov workflow resume` continues it, in the rollback if `phase` is "
      "rollback).";
  s.search_terms = {"state", "progress", "info"};
  s.required = {id_arg()};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workflow status (prov workflow list | first | get workflow_id) "
                 "| select name status total succeeded",
                 "How the newest workflow stands",
                 Value::record({{"name", Value::string("deploy-atlas")},
                                {"status", Value::string("completed")},
                                {"total", Value::integer(6)},
                                {"succeeded", Value::integer(6)}})}};
  return s;
}

Suggestions WorkflowStatusCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput WorkflowStatusCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  std::string id = workflow_id_arg(call);
  Workspace ws = open_workspace(engine, call);
  check_id(*ws.store, id);
  return PipelineOutput::of(status_value(*ws.store, id, call.head));
}

Signature WorkflowLogsCommand::signature() const {
  Signature s;
  s.name = "prov workflow logs";
  s.description = "A workflow's events, or with --output the captured output of one operation.";
  s.search_terms = {"events", "output", "stdout", "stderr", "history"};
  s.required = {id_arg()};
  s.extra_description =
      "With --output a table of the operation's output, a row per line: time (when it was written), attempt (null "
      "for a rollback's), stream (stdout, stderr, or prov for the runner's lines that open and close each action) "
      "and line. It is read from the log a piece at a time, so a log of any size takes little memory; a line over "
      "1 MiB comes in pieces; --tail N gives the last N rows; --follow goes on as the log grows and ends when the "
      "workflow has ended (at once for one that has ended); --raw gives the output's text as a byte stream "
      "(content type text/plain in its metadata). A line the log cannot place (one an older version wrote) has "
      "null time, attempt and stream. On the etcd store an operation's log stays on the host that ran it, and the "
      "store keeps its last 64 KiB when the operation ends: from another host you get that, and when it is not the "
      "whole log, a first row (stream prov) `[prov: only the last 64 KiB …]` names the host and path of the whole "
      "log.";
  s.named =
      with({{"output", 'o', shape::string(),
             "Show the captured output of this operation: time, attempt, stream and line of each line", false},
            {"tail", 't', shape::integer(), "With --output: only the last N lines", false},
            {"follow", 'f', std::nullopt,
             "With --output: go on streaming lines as they are written, until the workflow ends", false},
            {"raw", std::nullopt, std::nullopt,
             "With --output: the output's text as it was written, a byte stream of content type text/plain", false}});
  s.input_output_types = {{type::nothing(), type::table()}, {type::nothing(), type::string()}};
  s.examples = {
      {"prov workflow logs (prov workflow list | first | get workflow_id) | where type =~ failed | get type",
       "Failures of the newest workflow (here: workflows/broken.toml)",
       strings({"operation_failed", "workflow_failed"})},
      {"prov workflow logs (prov workflow list | first | get workflow_id) --output migrate | where stream == prov | "
       "get attempt",
       "The attempts of an operation that failed twice, from the lines that open and close each (here: migrate of "
       "workflows/broken.toml)",
       Value::list({Value::integer(1), Value::integer(1), Value::integer(2), Value::integer(2)})},
      {"prov workflow logs (prov workflow list | first | get workflow_id) --output reserve | where stream == stdout | "
       "get line",
       "What the rollback of an operation printed on stdout (here: reserve of workflows/broken.toml)",
       strings({"released the reservation"})}};
  return s;
}

Suggestions WorkflowLogsCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (!asks_flag(info, "output")) return complete_id(engine, info);
  // The operations of the workflow named by the id argument, when it is written out.
  std::vector<DynamicSuggestion> ops;
  if (info.call.positional.empty() || !info.call.positional[0].is(Value::Type::String)) return ops;
  const auto store = existing_store(load_workspace_config(engine, info.call, nullptr));
  if (!store) return ops;
  const std::string& id = info.call.positional[0].as_string();
  try {
    store->check_workflow_id(id);
    Datum doc = read_history(*store, id).submission.document;
    if (const Datum* list = doc.find("operations"); list && list->is_list())
      for (const auto& op : std::get<DatumList>(list->v)) {
        const Datum* op_id = op.find("id");
        const Datum* kind = op.find("kind");
        if (!op_id || !op_id->is_string()) continue;
        DynamicSuggestion item;
        item.value = op_id->str();
        if (kind && kind->is_string()) item.description = kind->str();
        ops.push_back(std::move(item));
      }
  } catch (const prov::Error&) {
  }
  return ops;
}

namespace {

constexpr size_t kLogChunk = size_t{1} << 16;  ///< bytes read from a log at a time

/// An operation's log read a chunk at a time (memory stays bounded whatever its size).
class LogLines {
 public:
  LogLines(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  /// The next line; nullopt at the end (at once for an empty fd: the operation printed nothing).
  /// With `at_end` false (following a log still written): nullopt once what is written is
  /// read, and a line still open waits for its end.
  std::optional<OpLogLine> next(bool at_end = true) {
    while (next_ == ready_.size()) {
      ready_.clear();
      next_ = 0;
      if (!fd_ || eof_) return std::nullopt;
      if (!read_chunk()) {
        if (!at_end) return std::nullopt;
        eof_ = true;
        reader_.finish(ready_);
      }
    }
    return std::move(ready_[next_++]);
  }
  /// Whether the log is open (an operation's log is made at its first output).
  bool opened() const { return bool(fd_); }
  void open(UniqueFd fd) { fd_ = std::move(fd); }
  /// The next piece of the output's text, as a chunk of the log gives it (possibly empty);
  /// nullopt at the end.
  std::optional<std::string> next_text() {
    if (!fd_ || eof_) return std::nullopt;
    ready_.clear();
    if (!read_chunk()) {
      eof_ = true;
      reader_.finish(ready_);
    }
    std::string text;
    append_op_log_text(text, ready_);
    ready_.clear();
    return text;
  }

 private:
  /// Feeds the reader the next chunk; false at the end of the file.
  bool read_chunk() {
    std::string buf(kLogChunk, '\0');
    while (true) {
      const ssize_t got = ::read(fd_.get(), buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw io_error("read", path_, errno);
      if (got == 0) return false;
      reader_.feed(std::string_view(buf.data(), size_t(got)), ready_);
      return true;
    }
  }

  UniqueFd fd_;
  std::string path_;
  OpLogReader reader_;
  std::vector<OpLogLine> ready_;  ///< lines read and not yet returned, from next_
  size_t next_ = 0;
  bool eof_ = false;
};

/// A line of an operation's log as a row: time, attempt, stream, line (null where unknown).
Value log_row(OpLogLine l, Span span) {
  Record r;
  r.emplace_back("time", l.time ? Value::date(utc_time(*l.time).rfc3339, span) : Value::nothing(span));
  r.emplace_back("attempt", l.attempt ? Value::integer(*l.attempt, span) : Value::nothing(span));
  r.emplace_back("stream",
                 l.stream ? Value::string(std::string(op_log_stream_name(*l.stream)), span) : Value::nothing(span));
  r.emplace_back("line", Value::string(to_valid_utf8(std::move(l.text)), span));
  return Value::record(std::move(r), span);
}

/// The note that comes before the end of a log written on another host.
std::string elsewhere_note(const OperationLog& log) {
  return "[prov: only the last " + std::to_string(kLogTailBytes >> 10) + " KiB of this operation's output (" +
         std::to_string(log.size) + " bytes) are kept in the shared store; the whole log is on host " + log.host +
         " at " + log.path + "]";
}

/// The output's text as a byte stream, decoded from the log a chunk at a time, after `first` (a
/// note, or nothing).
PipelineOutput raw_log(UniqueFd fd, const std::string& path, std::string first, Span span) {
  auto lines = std::make_shared<LogLines>(std::move(fd), path);
  return PipelineOutput::bytes(
      [lines, first = std::move(first)]() mutable -> std::optional<std::string> {
        if (!first.empty()) return std::exchange(first, std::string());
        while (true) {
          std::optional<std::string> text = lines->next_text();
          if (!text || !text->empty()) return text;
        }
      },
      span, "String", "text/plain; charset=utf-8");
}

/// The log's lines as a stream of rows; with `tail`, its last `tail` lines (the log is read
/// through, keeping no more than those); `first`, unless empty, a row of stream prov before them.
PipelineOutput log_rows(UniqueFd fd, const std::string& path, std::optional<int64_t> tail, std::string first,
                        Span span) {
  auto lines = std::make_shared<LogLines>(std::move(fd), path);
  std::optional<OpLogLine> note;
  if (!first.empty()) note = OpLogLine{std::nullopt, std::nullopt, OpLogStream::prov, std::move(first), true};
  if (!tail)
    return PipelineOutput::ready_stream(
        [lines, note, span]() mutable -> std::optional<Value> {
          if (note) return log_row(*std::exchange(note, std::nullopt), span);
          std::optional<OpLogLine> l = lines->next();
          if (!l) return std::nullopt;
          return log_row(std::move(*l), span);
        },
        span);
  std::deque<OpLogLine> last;
  while (std::optional<OpLogLine> l = lines->next()) {
    if (*tail == 0) continue;
    if (last.size() == size_t(*tail)) last.pop_front();
    last.push_back(std::move(*l));
  }
  std::vector<Value> rows;
  if (note) rows.push_back(log_row(std::move(*note), span));
  for (OpLogLine& l : last) rows.push_back(log_row(std::move(l), span));
  return PipelineOutput::of(Value::list(std::move(rows), span));
}

/// The log's rows as they are written, until workflow `id` has ended (no runner holds it) and
/// all its log holds is streamed, or Ctrl-C.
PipelineOutput follow_log_rows(EngineInterface& engine, std::shared_ptr<WorkflowStore> store, std::string id,
                               std::string op, Span span) {
  const std::string path = store->operation_log_path(id, op);
  auto lines = std::make_shared<LogLines>(store->open_operation_log(id, op), path);
  auto watch = std::make_shared<LogWatch>();
  const std::string logs = path.substr(0, path.rfind('/'));
  watch->watch_dir(logs);                             // the log grows
  watch->watch_dir(logs.substr(0, logs.rfind('/')));  // the workflow's events (its end)
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  PipelineOutput out = PipelineOutput::stream(
      [=, &engine]() -> std::optional<Value> {
        while (!*dropped && !engine.interrupted()) {
          // Asked before the read, so that what the runner wrote before letting go is read.
          const bool ended = !store->claim_holder(id);
          if (!lines->opened()) lines->open(store->open_operation_log(id, op));
          if (std::optional<OpLogLine> l = lines->next(ended)) return log_row(std::move(*l), span);
          if (ended) return std::nullopt;
          // Until the log or the event log grows or Ctrl-C; the timeout notices a runner that
          // ended without a word, and a dropped stream.
          watch->wait(std::chrono::seconds(1), {engine.signals().wake_fd()});
        }
        return std::nullopt;
      },
      span);
  out.dropped = std::move(dropped);
  return out;
}

}  // namespace

PipelineOutput WorkflowLogsCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  std::string id = workflow_id_arg(call);
  Workspace ws = open_workspace(engine, call);
  check_id(*ws.store, id);
  if (const Value* op = call.flag_value("output")) {
    if (!op->is(Value::Type::String)) throw labeled("--output takes an operation id", "expected a string", op->span,
                                                    "provisioning::input::wrong_type");
    WorkflowHistory h = read_history(*ws.store, id);
    std::vector<std::string> ids;
    if (const Datum* ops = h.submission.document.find("operations"); ops && ops->is_list())
      for (const auto& o : ops->list())
        if (const Datum* i = o.find("id"); i && i->is_string()) ids.push_back(i->str());
    if (std::find(ids.begin(), ids.end(), op->as_string()) == ids.end())
      throw labeled("No operation '" + op->as_string() + "' in workflow " + id, "unknown operation", op->span,
                    "provisioning::workflow::unknown_operation");
    std::optional<int64_t> tail;
    if (const Value* t = call.flag_value("tail")) {
      if (!t->is(Value::Type::Int) || t->as_int() < 0)
        throw labeled("--tail takes a number of lines, 0 or more", "not a number of lines", t->span,
                      "provisioning::input::bad_value");
      tail = t->as_int();
    }
    if (call.has_flag("follow")) {
      const char* other = tail ? "tail" : call.has_flag("raw") ? "raw" : nullptr;
      if (other)
        throw labeled(std::string("--") + other + " and --follow do not go together", "not with --follow",
                      call.flag(other)->name_span, "provisioning::input::bad_value",
                      "follow the output as it is written, or take it once");
      return follow_log_rows(engine, ws.store, id, op->as_string(), call.head);
    }
    OperationLog log = ws.store->read_operation_log(id, op->as_string());
    // Written on another host: a note first when only the end of it is here.
    const std::string note = log.tail_only ? elsewhere_note(log) : std::string();
    const std::string path = log.host.empty() ? ws.store->operation_log_path(id, op->as_string()) : log.path;
    if (call.has_flag("raw")) return raw_log(std::move(log.fd), path, note.empty() ? note : note + "\n", call.head);
    return log_rows(std::move(log.fd), path, tail, note, call.head);
  }
  std::vector<Value> rows;
  for (const auto& e : ws.store->read_events(id)) rows.push_back(event_value(e, call.head));
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

// ---- cancel / resume / rollback ------------------------------------------------------------

Signature WorkflowCancelCommand::signature() const {
  Signature s;
  s.name = "prov workflow cancel";
  s.description = "Cancel a running workflow: its processes get SIGTERM, then SIGKILL; then it rolls back if enabled.";
  s.search_terms = {"stop", "abort", "kill"};
  s.required = {id_arg()};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workflow list | where status == running "
                 "| each { prov workflow cancel $in.workflow_id | get status }",
                 "Cancel everything that runs (here: one workflow)", strings({"cancelling"})}};
  return s;
}

Suggestions WorkflowCancelCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput WorkflowCancelCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  std::string id = workflow_id_arg(call);
  Workspace ws = open_workspace(engine, call);
  check_id(*ws.store, id);
  if (!signal_runner(*ws.store, id)) {
    std::string st = workflow_status(*ws.store, id).status;
    throw labeled("Workflow " + id + " is not running (" + st + ")", "nothing to cancel", call.positional[0].span,
                  "provisioning::workflow::not_running");
  }
  return PipelineOutput::of(Value::record(
      {{"workflow_id", Value::string(id, call.head)}, {"status", Value::string("cancelling", call.head)}}, call.head));
}

// ---- wait ---------------------------------------------------------------------------------

Signature WorkflowWaitCommand::signature() const {
  Signature s;
  s.name = "prov workflow wait";
  s.description = "Wait until a workflow has ended and return its status record; fail when it did not complete.";
  s.extra_description =
      "Blocks until no runner holds the workflow (woken by its runner's exit, not by polling), then returns what "
      "`prov workflow status` returns. A workflow that ended failed, cancelled, rolled back or interrupted is an "
      "error, provisioning::workflow::<status>, naming its failed operations, so a script fails (--allow-failure "
      "returns the record instead). Ctrl-C stops the waiting, not the workflow. On a shared (etcd) store with live "
      "agents, a workflow whose runner was lost is not at its end: the waiting goes on while an agent takes it over.";
  s.search_terms = {"block", "join", "until", "done", "finish"};
  s.required = {id_arg()};
  s.named = with({allow_failure_flag()});
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workflow wait (prov workflow submit workflows/deploy.toml | get workflow_id) | get status",
                 "Start the example deployment in the background, then wait for it", Value::string("completed")}};
  return s;
}

Suggestions WorkflowWaitCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

namespace {
/// Blocks until the runner of `id` has ended; its status record, or the labeled error of a
/// workflow that did not complete (none with --allow-failure).
Value wait_until_ended(EngineInterface& engine, const EvaluatedCall& call, const Workspace& ws, const std::string& id) {
  const std::unique_ptr<EventFeed> feed = ws.store->follow(id);
  WorkflowStatus st;
  for (;;) {
    if (engine.interrupted())
      throw labeled("Stopped waiting for workflow " + id, "interrupted", call.head, "provisioning::workflow::wait_interrupted",
                    "the workflow goes on: `prov workflow status " + id + "`");
    if (runner_alive(*ws.store, id)) {
      feed->watch_runner(id);
      feed->wait(std::chrono::seconds(1), {engine.signals().wake_fd()});
      continue;
    }
    st = workflow_status(*ws.store, id);
    // A runner took it between the two reads (an agent's, or a resume's): wait for that one.
    if (!st.runner_host.empty()) continue;
    // On a shared store, live agents take over a workflow whose runner was lost: not its end.
    const bool unfinished = st.status == "interrupted" || st.status == "pending";
    if (!unfinished || ws.store->list_agents().empty()) break;
    feed->poll();
    feed->wait(std::chrono::milliseconds(500), {engine.signals().wake_fd()});
  }
  if (!call.has_flag("allow-failure") && st.status != "completed") {
    Failures failures;
    for (const Event& e : read_history(*ws.store, id).events) note_failure(failures, e);
    if (auto err = outcome_error(id, st.status, st.cause, failures, false, call.head)) throw LabeledErrorException(*err);
  }
  return to_value(st.to_datum(), call.head);
}
}  // namespace

PipelineOutput WorkflowWaitCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  std::string id = workflow_id_arg(call);
  Workspace ws = open_workspace(engine, call);
  check_id(*ws.store, id);
  return PipelineOutput::of(wait_until_ended(engine, call, ws, id));
}

SubmittedRun submit_and_wait(EngineInterface& engine, const EvaluatedCall& call, Datum document, std::string origin) {
  WorkflowSource src{std::move(document), std::move(origin), false, {}};
  Workspace ws = open_workspace(engine, call);
  Dag dag;
  WorkflowSpec spec = checked_spec(src, ws.config, dag);
  SubmittedRun out;
  out.workflow_id = submit(engine, call, ws, src, spec);
  out.workspace = ws.config.workspace;
  out.status = wait_until_ended(engine, call, ws, out.workflow_id);
  return out;
}

Flag allow_failure_flag() {
  return {"allow-failure", std::nullopt, std::nullopt,
          "Stream the events only: a workflow that fails, is cancelled or rolled back ends the stream without an "
          "error",
          false};
}

PipelineOutput run_and_follow(EngineInterface& engine, const EvaluatedCall& call, Datum document, std::string origin,
                              std::function<void(const std::string& id)> before_launch, std::function<void()> at_end) {
  WorkflowSource src{std::move(document), std::move(origin), false, {}};
  Workspace ws = open_workspace(engine, call);
  Dag dag;
  WorkflowSpec spec = checked_spec(src, ws.config, dag);
  std::string id = submit(engine, call, ws, src, spec, nullptr, std::move(before_launch));
  FollowExtras extras;
  extras.total = spec.operations.size();
  extras.progress = ProgressLine::stderr_is_terminal();
  extras.allow_failure = call.has_flag("allow-failure");
  extras.at_end = std::move(at_end);
  return follow(engine, ws.store, id, false, call.head, 0, std::move(extras));
}

namespace {
PipelineOutput restart(EngineInterface& engine, const EvaluatedCall& call, RunnerMode mode) {
  std::string id = workflow_id_arg(call);
  Workspace ws = open_workspace(engine, call);
  check_id(*ws.store, id);
  if (runner_alive(*ws.store, id))
    throw labeled("Workflow " + id + " is running", "its runner is still at work", call.positional[0].span,
                  "provisioning::workflow::running", "wait for it, or `prov workflow cancel " + id + "`");
  WorkflowStatus st = workflow_status(*ws.store, id);
  if (mode == RunnerMode::resume && st.status != "interrupted" && st.status != "pending")
    throw labeled("Workflow " + id + " has ended (" + st.status + ")", "nothing to resume", call.positional[0].span,
                  "provisioning::workflow::already_ended");
  size_t seen = ws.store->read_events(id).size();
  launch_runner(self_exe(), *ws.store, ws.config.workspace, id, mode, engine_environment(engine));
  FollowExtras extras;
  extras.allow_failure = call.has_flag("allow-failure");
  if (mode == RunnerMode::resume) {  // a rollback's steps are not the workflow's operations
    extras.total = st.total;
    extras.progress = ProgressLine::stderr_is_terminal();
  }
  return follow(engine, ws.store, id, mode == RunnerMode::rollback, call.head, seen, std::move(extras));
}
}  // namespace

Signature WorkflowResumeCommand::signature() const {
  Signature s;
  s.name = "prov workflow resume";
  s.description = "Continue an interrupted workflow without re-running what finished; stream its events.";
  s.extra_description =
      "Operations that were in flight when the runner died run again; the workflow_resumed event names them. "
      "Like `run`, it draws a progress line on stderr when that is a terminal, and ends with an error when the "
      "workflow does not complete (--allow-failure: without it).";
  s.search_terms = {"continue", "restart", "recover", "crash"};
  s.required = {id_arg()};
  s.named = with({allow_failure_flag()});
  s.input_output_types = {{type::nothing(), type::list(type::record())}};
  s.examples = {{"prov workflow list | where status == interrupted "
                 "| each { prov workflow resume $in.workflow_id | last | get type }",
                 "Resume every interrupted workflow (here: one whose runner was killed)",
                 strings({"workflow_completed"})}};
  return s;
}

Suggestions WorkflowResumeCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput WorkflowResumeCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return restart(engine, call, RunnerMode::resume);
}

Signature WorkflowRollbackCommand::signature() const {
  Signature s;
  s.name = "prov workflow rollback";
  s.description = "Undo a workflow's completed operations, newest first, from its journal; stream the steps.";
  s.extra_description =
      "A rollback that a crash interrupted is continued (the undo step in flight runs again, named by the "
      "workflow_resumed event); after rollback_failed, only the steps that did not undo are tried again. Ends with "
      "an error when the rollback itself does not end rolled back (--allow-failure: without it).";
  s.search_terms = {"undo", "revert", "restore"};
  s.required = {id_arg()};
  s.named = with({allow_failure_flag()});
  s.input_output_types = {{type::nothing(), type::list(type::record())}};
  s.examples = {{"prov workflow rollback (prov workflow list | first | get workflow_id) "
                 "| where type == rollback_step | get operation",
                 "Undo the newest workflow (here: workflows/deploy.toml; its one undoable step wrote a file)",
                 strings({"render-config"})}};
  return s;
}

Suggestions WorkflowRollbackCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput WorkflowRollbackCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return restart(engine, call, RunnerMode::rollback);
}

}  // namespace prov::plugin
