#include "plugin/commands/server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/events/log_watch.hpp"
#include "core/providers/server_identity.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/redact.hpp"
#include "core/support/unique_fd.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/provider_session.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

std::vector<Flag> server_flags(std::vector<Flag> extra = {}) {
  std::vector<Flag> f = workspace_flags();
  f.push_back(provider_flag());
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

PositionalArg id_arg() {
  return {"id", "The server's id, as `prov server list` shows it", shape::string()};
}

/// A server as the user sees it: secrets in its fields redacted.
Value server_value(const prov::Server& s, const ProviderSession& session, Span h) {
  return to_value(prov::redact(s.to_datum(), prov::secret_patterns(session.config.merged)), h);
}

const std::string& id_of(const EvaluatedCall& call) {
  if (call.positional.empty() || !call.positional[0].is(Value::Type::String))
    throw labeled("Missing the server id", "needs an id such as web-1a2b3c", call.head,
                  "provisioning::input::missing_argument", "`prov server list` shows the ids");
  return call.positional[0].as_string();
}

/// Runs `f`, blaming a server that does not exist on the id argument.
template <typename F>
auto on_server(F&& f) {
  try {
    return f();
  } catch (prov::Error& e) {
    if (e.code() == "provisioning::provider::not_found") e.blamed_on(prov::Blame::argument("id"));
    throw;
  }
}

/// Runs `method` (a Provider method) on the server the call names; its record.
template <typename Method>
PipelineOutput run_on_server(EngineInterface& engine, const EvaluatedCall& call, Method method) {
  const std::string id = id_of(call);
  ProviderSession session = open_provider_session(engine, call);
  auto provider = session.open(call);
  return PipelineOutput::of(server_value(on_server([&] { return ((*provider).*method)(id); }), session, call.head));
}

/// Completes a server command's id argument, and the flags every command shares.
Suggestions complete_id(EngineInterface& engine, const GetCompletionInfo& info) {
  if (asks_positional(info, 0)) return server_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

}  // namespace

Signature ServerListCommand::signature() const {
  Signature s;
  s.name = "prov server list";
  s.description = "The servers of a provider (--provider, default providers.default), or of every provider (--all).";
  s.extra_description =
      "Columns: id, name, provider, state (creating, running, exited, deleted, unknown), created, plan, labels, "
      "then what the provider adds (for `local`: pid, started, uptime, command, logs, ports, exit_code, env, cwd, "
      "restart, restarts). With --all, a provider "
      "that fails adds one row instead of its servers: id and name null, state `error`, and error {msg, code}; "
      "the others' servers are listed all the same.";
  s.search_terms = {"machines", "instances", "ps", "inventory"};
  s.named = server_flags({{"all", 'a', std::nullopt, "Servers of every usable provider", false}});
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov server list | select name provider state", "Servers of the default provider",
       table({"name", "provider", "state"},
             {{Value::string("web"), Value::string("local"), Value::string("running")}})},
      {"prov server list --all | where state == running | select name provider", "Running servers of every provider",
       table({"name", "provider"},
             {{Value::string("web"), Value::string("local")}, {Value::string("db"), Value::string("folder")}})},
  };
  return s;
}

PipelineOutput ServerListCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  ProviderSession session = open_provider_session(engine, call);
  std::vector<Value> rows;
  auto add = [&](prov::Provider& p) {
    std::vector<prov::Server> servers = p.list();
    for (const auto& s : servers) rows.push_back(server_value(s, session, call.head));
    remember_servers(session.config.workspace, p.name(), servers);
  };
  if (call.has_flag("all")) {
    // One provider that fails (unreachable, broken module) is one row saying so: the others' servers still show.
    for (const auto& info : session.catalog.all()) {
      if (!info.problem.empty()) continue;
      try {
        add(*session.open(info.name));
      } catch (const prov::Error& e) {
        const Span h = call.head;
        rows.push_back(Value::record({{"id", Value::nothing(h)},
                                      {"name", Value::nothing(h)},
                                      {"provider", Value::string(info.name, h)},
                                      {"state", Value::string("error", h)},
                                      {"created", Value::nothing(h)},
                                      {"error", Value::record({{"msg", Value::string(e.what(), h)},
                                                               {"code", Value::string(e.code(), h)}},
                                                              h)}},
                                     h));
      }
    }
  } else {
    add(*session.open(call));
  }
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

Signature ServerCreateCommand::signature() const {
  Signature s;
  s.name = "prov server create";
  s.description = "Create a server through a provider from a ServerSpec: flags, or a record on the pipeline.";
  s.extra_description =
      "A ServerSpec has name, plan, labels and, for the `local` provider, command (an argv list: no shell), env "
      "(the --vars flag), cwd, ports and restart. Flags override the record's fields; the name argument overrides "
      "its name. A field the provider does not take is refused, with a did-you-mean.\n\n"
      "A name is unique per provider: creating a name that exists with the same spec returns that server with "
      "`change` = unchanged and starts nothing; with another spec it fails with provisioning::server::exists, "
      "naming each field that differs (before → after), unless --replace (the old server is deleted, a new one "
      "created: `change` = replaced). A new server has `change` = created.\n\n"
      "For `local` the server is a process detached from Nu, supervised. A declared port already in use is refused "
      "before anything starts (provisioning::server::port_in_use, naming the port and its holder); with ports "
      "declared, create returns once the server's own processes listen on them, and fails with the exit status and "
      "the tail of its logs when it ends first. `restart` = \"on-failure\" (or {policy: no|on-failure|always, max: "
      "5, backoff: 1s}) has the supervisor start it again after a failure, waiting backoff × 2^(n-1) (at most 1m), "
      "up to `max` times; `restarts` counts them.";
  s.search_terms = {"new", "provision", "launch", "start"};
  s.optional = {{"name", "The server's name (else the record's `name`)", shape::string()}};
  s.named = server_flags({
      {"plan", std::nullopt, shape::string(), "The plan (size, flavour) to ask for", false},
      {"command", 'c', shape::list(shape::string()), "local: the program and its arguments, as a list", false},
      {"ports", std::nullopt, shape::list(shape::integer()), "local: ports the server listens on", false},
      {"cwd", std::nullopt, shape::string(), "local: working directory, relative to the workspace", false},
      {"vars", std::nullopt, shape::record(),
       "local: environment variables to add to the process (the record's `env`; --env names the workspace environment)",
       false},
      {"labels", 'l', shape::record(), "Labels to attach", false},
      {"restart", std::nullopt, shape::any(),
       "local: restart policy, \"on-failure\" or {policy: on-failure, max: 5, backoff: 1s}", false},
      {"replace", std::nullopt, std::nullopt, "Replace a server of that name whose spec differs (delete, create)",
       false},
  });
  s.input_output_types = {{type::nothing(), type::record()}, {type::record(), type::record()}};
  s.examples = {
      {"prov server create web --command [sleep 600] | select name provider state",
       "A local server: a supervised process that outlives this session",
       Value::record({{"name", Value::string("web")},
                      {"provider", Value::string("local")},
                      {"state", Value::string("running")}})},
      {"{name: db, plan: small, labels: {tier: data}} | prov server create --provider folder "
       "| select name state labels",
       "Create from a record through a Nu-module provider",
       Value::record({{"name", Value::string("db")},
                      {"state", Value::string("running")},
                      {"labels", Value::record({{"tier", Value::string("data")}})}})},
      {"prov server create web --command [sleep 600] | get change", "The same name and spec again: nothing starts",
       Value::string("unchanged")},
      {"prov server create web --command [sleep 900] --replace | get change",
       "Another spec for that name replaces the server only when asked", Value::string("replaced")},
      {"prov server create worker --command [sh -c 'sleep 1; exit 1'] --restart {policy: on-failure, max: 2, "
       "backoff: 100ms} | get restart.policy",
       "A local server the supervisor starts again after a failure, twice at most", Value::string("on-failure")},
  };
  return s;
}

PipelineOutput ServerCreateCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  Datum spec = DatumRecord{};
  bool piped = false;
  if (!input.is_empty()) {
    Value v = input.collect();
    if (!v.is(Value::Type::Nothing)) {
      if (!v.is(Value::Type::Record))
        throw labeled("The server spec must be a record", "expected a record, got " + v.type_name(), v.span,
                      "provisioning::input::wrong_type");
      spec = to_datum(v, "the server spec");
      piped = true;
    }
  }
  for (const char* f : {"plan", "command", "ports", "cwd", "labels", "restart"})
    if (const Value* v = call.flag_value(f)) spec.set(f, to_datum(*v, std::string("--") + f));
  if (const Value* v = call.flag_value("vars")) spec.set("env", to_datum(*v, "--vars"));
  if (!call.positional.empty() && call.positional[0].is(Value::Type::String))
    spec.set("name", Datum(call.positional[0].as_string()));
  if (!spec.find("name"))
    throw labeled("The server needs a name", "give a name argument or a record with `name`", call.head,
                  "provisioning::provider::invalid_spec");
  ProviderSession session = open_provider_session(engine, call);
  std::unique_ptr<prov::Provider> provider = session.open(call);
  prov::CreateOutcome made;
  try {
    const prov::ServerSpec parsed = prov::ServerSpec::from_datum(spec, "the server spec");
    made = prov::create_server(*provider, parsed, call.has_flag("replace"), "the server spec");
  } catch (prov::Error& e) {
    const bool named = !call.positional.empty();
    if (e.code() == "provisioning::server::exists" && named)
      e.blamed_on(prov::Blame::argument("name"));
    else if (piped &&
             (e.code() == "provisioning::provider::invalid_spec" || e.code() == "provisioning::server::exists"))
      e.blamed_on(prov::Blame::input());
    throw;
  }
  Value v = server_value(made.server, session, call.head);
  v.as_record().push_back({"change", Value::string(made.change, call.head)});
  return PipelineOutput::of(std::move(v));
}

Signature ServerGetCommand::signature() const {
  Signature s;
  s.name = "prov server get";
  s.description = "One server as its provider sees it now.";
  s.extra_description = "For `local`, the process is checked by pid and start time, so a reused pid is never "
                        "taken for the server.";
  s.search_terms = {"show", "inspect", "status", "describe"};
  s.required = {id_arg()};
  s.named = server_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"prov server get (prov server list | where name == web | first | get id) | select name state",
       "A local server as its supervisor sees it now (it also has pid, uptime, logs)",
       Value::record({{"name", Value::string("web")}, {"state", Value::string("running")}})},
      {"prov server list | each { prov server get $in.id | get state }", "Every server's state", strings({"running"})},
  };
  return s;
}

Suggestions ServerGetCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerGetCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return run_on_server(engine, call, &prov::Provider::get);
}

Signature ServerDeleteCommand::signature() const {
  Signature s;
  s.name = "prov server delete";
  s.description = "Delete a server; returns its last state, marked deleted.";
  s.extra_description = "For `local`: SIGTERM to its process group, SIGKILL after providers.local.kill_grace "
                        "(default 5s), then its record is removed.";
  s.search_terms = {"remove", "destroy", "stop", "kill", "terminate"};
  s.required = {id_arg()};
  s.named = server_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"prov server delete (prov server list | where name == web | first | get id) | get state",
       "Stop and forget a local server", Value::string("deleted")},
      {"prov server list | where state == exited | each { prov server delete $in.id } | get name",
       "Clean up the servers whose process has ended", strings({"once"})},
  };
  return s;
}

Suggestions ServerDeleteCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerDeleteCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return run_on_server(engine, call, &prov::Provider::remove);
}

namespace {

/// The signature of `prov server stop|start|restart`.
Signature lifecycle_signature(const std::string& verb, std::string description, std::string extra,
                              std::vector<std::string> terms, Example example) {
  Signature s;
  s.name = "prov server " + verb;
  s.description = std::move(description);
  s.extra_description = std::move(extra);
  s.search_terms = std::move(terms);
  s.required = {id_arg()};
  s.named = server_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {std::move(example)};
  return s;
}

}  // namespace

Signature ServerStopCommand::signature() const {
  return lifecycle_signature(
      "stop", "Stop a server's process and keep the server (state exited); `prov server start` starts it again.",
      "For `local`: its supervisor sends SIGTERM to the server's process group, SIGKILL after "
      "providers.local.kill_grace, and does not restart it whatever its restart policy. Providers whose servers "
      "have no process of ours refuse (provisioning::provider::unsupported).",
      {"halt", "pause", "kill"},
      {"prov server stop (prov server list | where name == web | first | get id) | get state", "Stop a local server",
       Value::string("exited")});
}

Suggestions ServerStopCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerStopCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return run_on_server(engine, call, &prov::Provider::stop);
}

Signature ServerStartCommand::signature() const {
  return lifecycle_signature(
      "start", "Start a stopped or exited server again from its spec; a running one is returned as it is.",
      "For `local`: as `prov server create` does, its ports must be free and it is ready once its own processes "
      "listen on them; its restart count starts from 0.",
      {"resume", "launch", "run"},
      {"prov server start (prov server list | where name == web | first | get id) | get state",
       "Start a stopped local server again", Value::string("running")});
}

Suggestions ServerStartCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerStartCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return run_on_server(engine, call, &prov::Provider::start);
}

Signature ServerRestartCommand::signature() const {
  return lifecycle_signature("restart", "Stop a server's process, then start it again (a new pid).",
                             "`prov server stop`, then `prov server start`.", {"reload", "bounce", "reboot"},
                             {"prov server restart (prov server list | where name == web | first | get id) | get state",
                              "Restart a local server", Value::string("running")});
}

Suggestions ServerRestartCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerRestartCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return run_on_server(engine, call, &prov::Provider::restart);
}

Signature ServerLogsCommand::signature() const {
  Signature s;
  s.name = "prov server logs";
  s.description =
      "A server's output as a byte stream: its stdout (--stderr: its stderr); --follow goes on as it grows.";
  s.extra_description =
      "For `local`: what the server's processes wrote, across restarts. With --follow the stream ends when the "
      "server ends for good (its supervisor exits: stopped, deleted, or no restart left) or on Ctrl-C. Pipe it to "
      "`lines` for lines. Providers whose servers have no process of ours refuse "
      "(provisioning::provider::unsupported).";
  s.search_terms = {"output", "stdout", "stderr", "tail", "journal"};
  s.required = {id_arg()};
  s.named = server_flags({
      {"follow", 'f', std::nullopt, "Go on streaming what it writes until it ends or Ctrl-C", false},
      {"stderr", std::nullopt, std::nullopt, "Its stderr instead of its stdout", false},
  });
  s.input_output_types = {{type::nothing(), type::string()}};
  s.examples = {
      {"prov server logs (prov server list | where name == hello | first | get id) | lines",
       "The lines a local server printed", strings({"hi"})},
      {"prov server logs (prov server list | where name == hello | first | get id) --follow --stderr | lines",
       "Follow a server's stderr until it ends (here: it has) or Ctrl-C", strings({"oops"})},
  };
  return s;
}

Suggestions ServerLogsCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  return complete_id(engine, info);
}

PipelineOutput ServerLogsCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string id = id_of(call);
  ProviderSession session = open_provider_session(engine, call);
  auto provider = session.open(call);
  const prov::Provider::LogFiles files = on_server([&] { return provider->logs(id); });
  struct Follow {
    std::string path;
    std::string dir;
    UniqueFd fd;
    bool follow = false;
    pid_t writer = 0;
    uint64_t writer_start = 0;
    prov::LogWatch watch;
  };
  auto f = std::make_shared<Follow>();
  f->path = call.has_flag("stderr") ? files.stderr_path : files.stdout_path;
  f->dir = f->path.substr(0, f->path.rfind('/'));
  f->follow = call.has_flag("follow");
  f->writer = files.writer;
  f->writer_start = files.writer_start;
  f->fd = UniqueFd(::open(f->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (f->follow) {
    f->watch.watch_dir(f->dir);
    if (f->writer > 0) f->watch.watch_process(f->writer);
  }
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  PipelineOutput out = PipelineOutput::bytes(
      [f, dropped, &engine]() -> std::optional<std::string> {
        std::string chunk(64u << 10, '\0');
        while (true) {
          if (!f->fd) f->fd = UniqueFd(::open(f->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
          if (f->fd) {
            const ssize_t n = ::read(f->fd.get(), chunk.data(), chunk.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
              throw std::runtime_error(std::string("reading the server's log failed: ") + std::strerror(errno));
            if (n > 0) {
              chunk.resize(static_cast<size_t>(n));
              return chunk;
            }
          }
          // At its end: done, unless following a server whose supervisor still writes.
          if (!f->follow || *dropped || engine.interrupted()) return std::nullopt;
          if (f->writer <= 0 || !prov::process_alive(f->writer, f->writer_start)) {
            f->follow = false;  // one more read takes what it wrote last
            continue;
          }
          f->watch.wait(std::chrono::seconds(1), {engine.signals().wake_fd()});
        }
      },
      call.head, "String", "text/plain; charset=utf-8");
  out.dropped = std::move(dropped);
  return out;
}

}  // namespace prov::plugin
