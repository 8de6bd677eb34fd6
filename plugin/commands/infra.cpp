#include "plugin/commands/infra.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/infra/apply_record.hpp"
#include "core/infra/infra_definition.hpp"
#include "core/infra/infra_plan.hpp"
#include "core/infra/infra_workflow.hpp"
#include "core/support/nearest.hpp"
#include "core/support/redact.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/provider_session.hpp"
#include "plugin/commands/workflow.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

constexpr const char* kDefinitionHelp =
    "A definition is a TOML (or JSON) file, or a record on the pipeline: [vars] and one [servers.<name>] table per "
    "server with a ServerSpec's fields (plan, labels, command, env, cwd, ports) plus provider (default: "
    "providers.default) and depends_on (names). `{{vars.<name>}}` stands for a variable; "
    "`{{servers.<name>.<field>}}` for a field of another server (its declared spec, else its record), and makes "
    "that server a dependency. Relative paths are relative to Nu's current directory.";

PositionalArg definition_arg() {
  return {"definition", "An infrastructure definition file (.toml or .json); or pipe a record", shape::filepath()};
}

Flag lock_timeout_flag() {
  return {"lock-timeout", std::nullopt, shape::duration(),
          "Wait this long for another apply of the workspace to end (default: refuse at once, naming it)", false};
}

std::vector<Flag> with(std::vector<Flag> extra) {
  std::vector<Flag> f = workspace_flags();
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

std::chrono::milliseconds lock_timeout(const EvaluatedCall& call) {
  const Value* v = call.flag_value("lock-timeout");
  if (!v) return std::chrono::milliseconds(0);
  if (!v->is(Value::Type::Duration) || v->as_int() < 0)
    throw labeled("--lock-timeout takes a duration", "expected a duration such as 30sec, got " + v->type_name(),
                  v->span, "provisioning::input::wrong_type");
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(v->as_int()));
}

/// The workspace's providers and store, and the providers opened so far (each once per call).
struct InfraSession {
  std::shared_ptr<ProviderSession> providers;
  std::shared_ptr<WorkflowStore> store;
  std::shared_ptr<std::map<std::string, std::unique_ptr<Provider>>> opened =
      std::make_shared<std::map<std::string, std::unique_ptr<Provider>>>();

  Provider& provider(const std::string& name) const {
    auto& p = (*opened)[name];
    if (!p) p = providers->open(name);
    return *p;
  }
  /// What `provider` reports for server `id` now; null when it cannot say.
  LookServer look() const {
    InfraSession self = *this;
    return [self](const std::string& provider, const std::string& id) -> Datum {
      try {
        return self.provider(provider).get(id).to_datum();
      } catch (const prov::Error&) {
        return Datum();
      }
    };
  }
  std::vector<std::string> secret_patterns() const { return prov::secret_patterns(providers->config.merged); }
};

InfraSession open_infra(EngineInterface& engine, const EvaluatedCall& call) {
  InfraSession s;
  s.providers = std::make_shared<ProviderSession>(open_provider_session(engine, call));
  s.store = open_store(s.providers->config);
  return s;
}

Flag vars_flag() {
  return {"vars", std::nullopt, shape::record(), "Variables over the definition's [vars] (for example other ports)",
          false};
}

/// `doc` with --vars laid over its [vars].
Datum with_vars(Datum doc, const EvaluatedCall& call) {
  const Value* v = call.flag_value("vars");
  if (!v || !doc.is_record()) return doc;
  if (!v->is(Value::Type::Record))
    throw labeled("--vars takes a record", "expected a record, got " + v->type_name(), v->span,
                  "provisioning::input::wrong_type", "for example: --vars {api_port: 18080}");
  Datum vars = doc.find("vars") && doc.find("vars")->is_record() ? *doc.find("vars") : Datum(DatumRecord{});
  const Datum given = to_datum(*v, "--vars");
  for (const auto& [k, x] : given.record()) vars.set(k, x);
  doc.set("vars", std::move(vars));
  return doc;
}

/// Points `e` and every problem reported with it at `b`.
void blame_all(prov::Error& e, const Blame& b) {
  std::vector<prov::Error> related = e.related();
  for (prov::Error& r : related) r.blamed_on(b);
  e.blamed_on(b).with_related(std::move(related));
}

/// The definition: the file argument, else the record piped in; errors point at either.
InfraDefinition definition_of(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) {
  if (!call.positional.empty() && call.positional[0].is(Value::Type::String)) {
    std::string path = call.positional[0].as_string();
    if (!path.starts_with("/")) path = engine.get_current_dir() + "/" + path;
    try {
      return parse_infra_definition(with_vars(load_infra_file(path), call), call.positional[0].as_string());
    } catch (prov::Error& e) {
      blame_all(e, Blame::argument("definition"));
      throw;
    }
  }
  if (input.is_empty())
    throw labeled("No infrastructure definition given", "give a definition file, or pipe a record", call.head,
                  "provisioning::infra::missing", "for example: prov infra plan infra/servers.toml");
  Value v = input.collect();
  if (!v.is(Value::Type::Record))
    throw labeled("An infrastructure definition must be a record", "expected a record, got " + v.type_name(),
                  input.span(), "provisioning::infra::wrong_type", kDefinitionHelp);
  try {
    return parse_infra_definition(with_vars(to_datum(v, "the definition"), call), "pipeline input");
  } catch (prov::Error& e) {
    blame_all(e, Blame::input());
    throw;
  }
}

/// Records an apply that has ended, when no other `prov infra` command is at work; readers go on
/// with what is recorded either way.
void settle_if_free(const InfraSession& s, const std::string& purpose) {
  try {
    acquire_infra(*s.store, std::chrono::milliseconds(0), purpose, s.look());
  } catch (const prov::Error& e) {
    if (e.code() != "provisioning::state::locked" && e.code() != "provisioning::infra::interrupted") throw;
  }
}

/// The plan against what the providers report now: one list() per provider involved.
InfraPlan plan_now(const InfraSession& s, const InfraDefinition& def, const std::vector<ManagedServer>& managed) {
  const std::string fallback = s.providers->catalog.default_name();
  std::set<std::string> names;
  for (const auto& srv : def.servers) names.insert(srv.provider.empty() ? fallback : srv.provider);
  for (const auto& m : managed) names.insert(m.provider);
  ProvidersNow now;
  for (const auto& name : names) {
    auto& servers = now.servers[name];
    for (const Server& srv : s.provider(name).list()) servers.emplace(srv.id, srv.to_datum());
  }
  now.in_place = [&s](const std::string& provider, const std::string& field) {
    return s.provider(provider).changes_in_place(field);
  };
  return make_infra_plan(def, managed, fallback, now);
}

Value plan_value(const InfraPlan& plan, const std::vector<std::string>& secrets, Span h) {
  std::vector<Value> rows;
  for (const auto& e : plan.entries) {
    DatumList changes;
    for (const auto& c : e.changes)
      changes.emplace_back(DatumRecord{{"field", Datum(c.field)}, {"before", c.before}, {"after", c.after}});
    Datum shown = redact(Datum(std::move(changes)), secrets);
    rows.push_back(Value::record({{"action", Value::string(e.action, h)},
                                  {"name", Value::string(e.name, h)},
                                  {"provider", Value::string(e.provider, h)},
                                  {"changes", to_value(shown, h)},
                                  {"reason", Value::string(e.reason, h)}},
                                 h));
  }
  return Value::list(std::move(rows), h);
}

/// Takes servers their provider no longer has out of `plan`'s deletes: they are forgotten now,
/// with nothing to run (their row stays, its reason saying so).
void forget_vanished(const InfraSession& s, InfraPlan& plan) {
  std::map<std::string, std::set<std::string>> known;
  for (auto& e : plan.entries) {
    if (e.action != infra_action::del) continue;
    if (!known.count(e.provider)) {
      auto& ids = known[e.provider];
      for (const Server& srv : s.provider(e.provider).list()) ids.insert(srv.id);
    }
    if (known[e.provider].count(e.id)) continue;
    s.store->forget_managed_server(e.name);
    e.reason = "already gone from " + e.provider + ": forgotten";
    e.id.clear();
  }
  std::erase_if(plan.entries, [](const auto&) { return false; });
}

/// Makes what needs no workflow, the updates in place (labels, through the provider), and
/// records them.
void apply_updates(const InfraSession& s, const InfraPlan& plan, const std::vector<ManagedServer>& managed) {
  for (const auto& e : plan.entries) {
    if (e.action != infra_action::update) continue;
    for (ManagedServer m : managed)
      if (m.name == e.name) {
        for (const auto& c : e.changes)
          if (c.field == "labels") {
            const Datum* labels = e.spec.find("labels");
            m.last = s.provider(m.provider).set_labels(m.id, labels ? *labels : Datum(DatumRecord{})).to_datum();
          }
        m.spec = e.spec;
        m.depends_on = e.depends_on;
        s.store->put_managed_server(m);
      }
  }
}

/// Runs `plan` as a workflow of `kind` (apply, destroy) and streams its events; the managed state
/// is recorded from its journal when it ends (or by the next `prov infra` command).
PipelineOutput run_plan(EngineInterface& engine, const EvaluatedCall& call, const InfraSession& s,
                        std::unique_ptr<InfraLock> lock, const InfraPlan& plan, const std::string& kind,
                        const DatumRecord& vars) {
  InfraWorkflow w = infra_workflow(plan, kind, vars);
  std::shared_ptr<WorkflowStore> store = s.store;
  Datum pending = w.pending;
  LookServer look = s.look();
  PipelineOutput out = run_and_follow(
      engine, call, std::move(w.document), "prov infra " + kind,
      [store, pending, &lock](const std::string& id) mutable {
        pending.set("workflow_id", Datum(id));
        store->set_pending_apply(pending);
        lock->release();  // from now on the pending apply names the workflow to whoever asks
      },
      [store, look] { acquire_infra(*store, std::chrono::seconds(10), "recording an apply", look); });
  return out;
}

}  // namespace

// ---- plan ---------------------------------------------------------------------------------------

Signature InfraPlanCommand::signature() const {
  Signature s;
  s.name = "prov infra plan";
  s.description = "What applying an infrastructure definition would change: one row per server.";
  s.extra_description =
      std::string(
          "Columns: action (create, update, replace, delete, noop), name, provider, changes (a list of {field, before, "
          "after}), reason. Servers the workspace manages that the definition no longer declares are deleted; a "
          "managed server its provider no longer has is created again; one whose process exited is replaced. "
          "Whether a changed field is updated in place or forces a replace is the provider's to say: the local "
          "provider changes labels in place (update); every other field, and any field of a provider that changes "
          "nothing in place, forces a replace. Each provider involved is asked for its servers once; no "
          "server changes.\n\n") +
      kDefinitionHelp;
  s.search_terms = {"desired state", "diff", "preview", "terraform"};
  s.optional = {definition_arg()};
  s.named = with({vars_flag(), lock_timeout_flag()});
  s.input_output_types = {{type::nothing(), type::table()}, {type::record(), type::table()}};
  s.examples = {
      {"prov infra plan infra/servers.toml | select action name provider",
       "The example's three servers, before anything was applied",
       table({"action", "name", "provider"},
             {{Value::string("create"), Value::string("api"), Value::string("local")},
              {Value::string("create"), Value::string("web"), Value::string("local")},
              {Value::string("create"), Value::string("worker"), Value::string("local")}})},
      {"{servers: {cache: {command: [sleep 600], labels: {tier: cache}}}} | prov infra plan | select action name "
       "reason",
       "A definition as a record",
       table({"action", "name", "reason"},
             {{Value::string("create"), Value::string("cache"), Value::string("not managed yet")}})},
  };
  return s;
}

PipelineOutput InfraPlanCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  InfraDefinition def = definition_of(engine, call, input);
  InfraSession s = open_infra(engine, call);
  std::unique_ptr<InfraLock> lock = acquire_infra(*s.store, lock_timeout(call), "prov infra plan", s.look());
  InfraPlan plan = plan_now(s, def, s.store->managed_servers());
  return PipelineOutput::of(plan_value(plan, s.secret_patterns(), call.head));
}

// ---- apply --------------------------------------------------------------------------------------

Signature InfraApplyCommand::signature() const {
  Signature s;
  s.name = "prov infra apply";
  s.description = "Make the workspace's servers what the definition declares; stream the events as it happens.";
  s.extra_description =
      std::string(
          "Runs exactly what `prov infra plan` shows as one journaled workflow (`prov workflow list` shows it): "
          "server.delete operations, dependents first, then server.create operations after what they depend on, in "
          "parallel, with the workspace's retries. A failure rolls back what this apply created and ends the stream "
          "with an error, as `prov workflow run` does (--allow-failure leaves it out). The managed state (`prov infra state`) is recorded from the "
          "workflow's journal when it ends; if the run is killed, `prov workflow resume` finishes it and the next "
          "`prov infra` command records it. When there is nothing to run (every server noop, or only in-place "
          "updates) no workflow starts and the plan's rows are returned instead of events.\n\n"
          "One apply at a time per workspace: another apply (or plan) meanwhile is refused, naming the workflow and "
          "its runner, unless --lock-timeout lets it wait.\n\n") +
      kDefinitionHelp;
  s.search_terms = {"desired state", "converge", "deploy", "terraform", "up"};
  s.optional = {definition_arg()};
  s.named = with({vars_flag(), lock_timeout_flag(), allow_failure_flag()});
  s.input_output_types = {{type::nothing(), type::list(type::record())}, {type::record(), type::list(type::record())}};
  s.examples = {
      {"prov infra apply infra/servers.toml --vars {api_port: (port), web_port: (port)} | where type == "
       "resource_created | get resource.name | sort",
       "Create the example's servers (on free ports), each after what it depends on",
       strings({"api", "web", "worker"})},
      {"let v = {api_port: (port), web_port: (port)}; prov infra apply infra/servers.toml --vars $v | ignore; "
       "prov infra apply infra/servers.toml --vars $v | get action | uniq",
       "A second apply finds nothing to do and starts nothing", strings({"noop"})},
  };
  return s;
}

PipelineOutput InfraApplyCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  InfraDefinition def = definition_of(engine, call, input);
  InfraSession s = open_infra(engine, call);
  std::unique_ptr<InfraLock> lock = acquire_infra(*s.store, lock_timeout(call), "prov infra apply", s.look());
  const std::vector<ManagedServer> managed = s.store->managed_servers();
  InfraPlan plan = plan_now(s, def, managed);
  forget_vanished(s, plan);
  apply_updates(s, plan, managed);
  if (!plan.needs_workflow()) return PipelineOutput::of(plan_value(plan, s.secret_patterns(), call.head));
  return run_plan(engine, call, s, std::move(lock), plan, "apply", def.vars);
}

// ---- destroy ------------------------------------------------------------------------------------

Signature InfraDestroyCommand::signature() const {
  Signature s;
  s.name = "prov infra destroy";
  s.description = "Delete managed servers, dependents first; stream the events.";
  s.extra_description =
      "Without a definition, every managed server; with one, those it declares; --only narrows to the names "
      "given. A managed server its provider no longer has is forgotten without running anything. Runs as a "
      "journaled workflow of server.delete operations, like `prov infra apply`; with nothing to delete, returns an "
      "empty list.";
  s.search_terms = {"teardown", "delete", "remove", "down"};
  s.optional = {definition_arg()};
  s.named = with({{"only", std::nullopt, shape::list(shape::string()), "Only these managed servers", false},
                  vars_flag(),
                  lock_timeout_flag(),
                  allow_failure_flag()});
  s.input_output_types = {{type::nothing(), type::list(type::record())}, {type::record(), type::list(type::record())}};
  s.examples = {
      {"prov infra apply infra/servers.toml --vars {api_port: (port), web_port: (port)} | ignore; prov infra destroy "
       "| where type == resource_deleted | get resource.name | last",
       "Delete every managed server: the API goes last, after the worker and the web front that use it",
       Value::string("api")},
  };
  return s;
}

PipelineOutput InfraDestroyCommand::run(EngineInterface& engine, const EvaluatedCall& call,
                                        PipelineInput& input) const {
  std::optional<InfraDefinition> def;
  if ((!call.positional.empty() && call.positional[0].is(Value::Type::String)) || !input.is_empty())
    def = definition_of(engine, call, input);
  InfraSession s = open_infra(engine, call);
  std::unique_ptr<InfraLock> lock = acquire_infra(*s.store, lock_timeout(call), "prov infra destroy", s.look());
  std::vector<ManagedServer> managed = s.store->managed_servers();
  if (def) std::erase_if(managed, [&](const ManagedServer& m) { return !def->find(m.name); });
  std::vector<std::string> only;
  if (const Value* o = call.flag_value("only")) {
    std::vector<std::string> known;
    for (const auto& m : managed) known.push_back(m.name);
    for (const Value& v : o->as_list()) {
      const std::string n = v.is(Value::Type::String) ? v.as_string() : std::string();
      if (std::find(known.begin(), known.end(), n) == known.end()) {
        const auto near = nearest_names(n, known);
        throw labeled("`" + n + "` is not a managed server", "not managed here", v.span,
                      "provisioning::infra::unknown_server",
                      near.empty() ? "`prov infra state` lists the managed servers"
                                   : "did you mean " + join_alternatives(near) + "?");
      }
      only.push_back(n);
    }
  }
  InfraPlan plan = make_destroy_plan(managed, only);
  forget_vanished(s, plan);
  std::erase_if(plan.entries, [](const InfraPlanEntry& e) { return e.id.empty(); });
  if (plan.entries.empty()) return PipelineOutput::of(Value::list({}, call.head));
  return run_plan(engine, call, s, std::move(lock), plan, "destroy", {});
}

// ---- drift --------------------------------------------------------------------------------------

Signature InfraDriftCommand::signature() const {
  Signature s;
  s.name = "prov infra drift";
  s.description = "Compare the managed servers with what their providers report now.";
  s.extra_description =
      "One row per managed server: name, provider, id, drift (none, deleted, exited, labels), details. `deleted`: "
      "the provider no longer has it (deleted outside prov infra); `exited`: its process ended; `labels`: the "
      "provider reports other labels than were applied. `prov infra plan` shows what an apply would do about it.";
  s.search_terms = {"compare", "check", "refresh", "diff"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov infra apply infra/servers.toml --vars {api_port: (port), web_port: (port)} | ignore; prov infra drift "
       "| get drift | uniq",
       "Right after an apply, nothing has drifted", strings({"none"})},
  };
  return s;
}

PipelineOutput InfraDriftCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  InfraSession s = open_infra(engine, call);
  settle_if_free(s, "prov infra drift");
  const std::vector<ManagedServer> managed = s.store->managed_servers();
  std::map<std::string, std::map<std::string, Server>> now;
  const Span h = call.head;
  std::vector<Value> rows;
  for (const auto& m : managed) {
    if (!now.count(m.provider)) {
      auto& servers = now[m.provider];
      for (Server& srv : s.provider(m.provider).list()) servers.emplace(srv.id, std::move(srv));
    }
    std::string drift = "none", details;
    auto it = now[m.provider].find(m.id);
    if (it == now[m.provider].end()) {
      drift = "deleted";
      details = m.provider + " has no server " + m.id;
    } else if (it->second.state == server_state::exited) {
      drift = "exited";
      const Datum* code = nullptr;
      for (const auto& [k, v] : it->second.fields)
        if (k == "exit_code") code = &v;
      details = "its process exited" + (code && !code->is_null() ? " with status " + to_display(*code) : std::string());
    } else {
      const Datum* reported = nullptr;
      for (const auto& [k, v] : it->second.fields)
        if (k == "labels") reported = &v;
      const Datum* applied = m.spec.find("labels");
      const Datum empty = DatumRecord{};
      if (reported && !(*reported == (applied ? *applied : empty))) {
        drift = "labels";
        details = "applied " + to_display(applied ? *applied : empty) + ", reported " + to_display(*reported);
      }
    }
    rows.push_back(Value::record({{"name", Value::string(m.name, h)},
                                  {"provider", Value::string(m.provider, h)},
                                  {"id", Value::string(m.id, h)},
                                  {"drift", Value::string(drift, h)},
                                  {"details", Value::string(details, h)}},
                                 h));
  }
  return PipelineOutput::of(Value::list(std::move(rows), h));
}

// ---- import -------------------------------------------------------------------------------------

Signature InfraImportCommand::signature() const {
  Signature s;
  s.name = "prov infra import";
  s.description = "Adopt an existing server as a managed one under a name.";
  s.extra_description =
      "The server's spec fields (plan, labels, command, env, cwd, ports) are read from what its provider reports "
      "and recorded as applied; a definition that declares the same name and fields then plans it as noop. A name "
      "already managed is refused.";
  s.search_terms = {"adopt", "manage", "take over"};
  s.required = {{"provider", "The provider that has the server", shape::string()},
                {"id", "The server's id, as `prov server list` shows it", shape::string()}};
  s.named = with(
      {{"as", std::nullopt, shape::string(), "The name to manage it under (required)", false}, lock_timeout_flag()});
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"let srv = (prov server create legacy --command [sleep 600]); prov infra import local $srv.id --as legacy | "
       "select name provider",
       "Manage a server made by hand",
       Value::record({{"name", Value::string("legacy")}, {"provider", Value::string("local")}})},
  };
  return s;
}

PipelineOutput InfraImportCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const Value* as = call.flag_value("as");
  if (!as || !as->is(Value::Type::String) || as->as_string().empty())
    throw labeled("prov infra import needs --as <name>", "the name to manage this server under", call.head,
                  "provisioning::input::missing_argument", "for example: prov infra import local web-1a2b3c --as web");
  const std::string name = as->as_string();
  const std::string provider = call.positional.at(0).as_string();
  const std::string id = call.positional.at(1).as_string();
  InfraSession s = open_infra(engine, call);
  std::unique_ptr<InfraLock> lock = acquire_infra(*s.store, lock_timeout(call), "prov infra import", s.look());
  for (const auto& m : s.store->managed_servers()) {
    if (m.name == name)
      throw labeled("`" + name + "` is managed already", "server " + m.id + " of " + m.provider + " has this name",
                    as->span, "provisioning::infra::already_managed", "choose another name, or destroy it first");
    if (m.id == id && m.provider == provider)
      throw labeled("Server " + id + " is managed already, as `" + m.name + "`", "managed already",
                    call.positional[1].span, "provisioning::infra::already_managed");
  }
  Server srv;
  try {
    srv = s.provider(provider).get(id);
  } catch (prov::Error& e) {
    if (e.code() == "provisioning::provider::not_found") e.blamed_on(Blame::argument("id"));
    if (e.code() == "provisioning::provider::unknown") e.blamed_on(Blame::argument("provider"));
    throw;
  }
  ManagedServer m;
  m.name = name;
  m.provider = srv.provider.empty() ? provider : srv.provider;
  m.id = srv.id;
  m.last = srv.to_datum();
  DatumRecord spec{{"name", Datum(name)}};
  for (const char* field : {"plan", "labels", "command", "env", "cwd", "ports"})
    if (const Datum* v = m.last.find(field); v && !v->is_null()) spec.emplace_back(field, *v);
  m.spec = Datum(std::move(spec));
  s.store->put_managed_server(m);
  return PipelineOutput::of(to_value(redact(m.to_datum(), s.secret_patterns()), call.head));
}

// ---- state --------------------------------------------------------------------------------------

Signature InfraStateCommand::signature() const {
  Signature s;
  s.name = "prov infra state";
  s.description =
      "The servers the workspace manages: name, provider, id, depends_on, the spec applied, the last record seen.";
  s.extra_description =
      "Read from the workspace's store; an apply that ended since is recorded first. While an "
      "apply runs, it shows what was recorded before it.";
  s.search_terms = {"managed", "inventory", "list"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov infra apply infra/servers.toml --vars {api_port: (port), web_port: (port)} | ignore; prov infra state "
       "| select name provider depends_on",
       "What the example's apply left managed",
       table({"name", "provider", "depends_on"},
             {{Value::string("api"), Value::string("local"), strings({})},
              {Value::string("web"), Value::string("local"), strings({"api"})},
              {Value::string("worker"), Value::string("local"), strings({"api"})}})},
  };
  return s;
}

PipelineOutput InfraStateCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  InfraSession s = open_infra(engine, call);
  settle_if_free(s, "prov infra state");
  std::vector<Value> rows;
  const auto secrets = s.secret_patterns();
  for (const auto& m : s.store->managed_servers()) rows.push_back(to_value(redact(m.to_datum(), secrets), call.head));
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

}  // namespace prov::plugin
