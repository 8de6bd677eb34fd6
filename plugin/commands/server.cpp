#include "plugin/commands/server.hpp"

#include "core/support/error.hpp"
#include "core/support/redact.hpp"
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

}  // namespace

Signature ServerListCommand::signature() const {
  Signature s;
  s.name = "prov server list";
  s.description = "The servers of a provider (--provider, default providers.default), or of every provider (--all).";
  s.extra_description =
      "Columns: id, name, provider, state (creating, running, exited, deleted, unknown), created, then what the "
      "provider adds (for `local`: pid, started, uptime, command, logs, ports, exit_code). With --all, a provider "
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
      "(the --vars flag), "
      "cwd and ports. Flags override the record's fields; the name argument overrides its name. For `local` the "
      "server is a process detached from Nu; with ports declared, create returns once they accept connections.";
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
  for (const char* f : {"plan", "command", "ports", "cwd", "labels"})
    if (const Value* v = call.flag_value(f)) spec.set(f, to_datum(*v, std::string("--") + f));
  if (const Value* v = call.flag_value("vars")) spec.set("env", to_datum(*v, "--vars"));
  if (!call.positional.empty() && call.positional[0].is(Value::Type::String))
    spec.set("name", Datum(call.positional[0].as_string()));
  if (!spec.find("name"))
    throw labeled("The server needs a name", "give a name argument or a record with `name`", call.head,
                  "provisioning::provider::invalid_spec");
  ProviderSession session = open_provider_session(engine, call);
  std::unique_ptr<prov::Provider> provider = session.open(call);
  prov::ServerSpec parsed;
  try {
    parsed = prov::ServerSpec::from_datum(spec, "the server spec");
  } catch (prov::Error& e) {
    if (piped) e.blamed_on(prov::Blame::input());
    throw;
  }
  return PipelineOutput::of(server_value(provider->create(parsed), session, call.head));
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
  if (asks_positional(info, 0)) return server_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput ServerGetCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string id = id_of(call);
  ProviderSession session = open_provider_session(engine, call);
  auto provider = session.open(call);
  return PipelineOutput::of(server_value(on_server([&] { return provider->get(id); }), session, call.head));
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
  if (asks_positional(info, 0)) return server_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput ServerDeleteCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string id = id_of(call);
  ProviderSession session = open_provider_session(engine, call);
  auto provider = session.open(call);
  return PipelineOutput::of(server_value(on_server([&] { return provider->remove(id); }), session, call.head));
}

}  // namespace prov::plugin
