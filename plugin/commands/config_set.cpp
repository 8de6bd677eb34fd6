#include "plugin/commands/config_set.hpp"

#include "core/config/key_path.hpp"
#include "core/support/redact.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workflow.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

/// The key argument as config.set reads it: a cell path's members, or dotted text.
std::string key_text(const EvaluatedCall& call) {
  if (call.positional.empty())
    throw labeled("Missing the key to set", "needs a key such as workflow.parallel", call.head,
                  "provisioning::input::missing_argument");
  const Value& k = call.positional[0];
  if (k.is(Value::Type::String)) return k.as_string();
  if (!k.is(Value::Type::CellPath))
    throw labeled("The key must be a cell path", "expected a cell path, got " + k.type_name(), k.span,
                  "provisioning::input::wrong_type");
  prov::KeyPath path;
  for (const auto& m : k.as_cell_path().members) path.push_back(m.is_int ? std::to_string(m.index) : m.name);
  return prov::render_key(path);
}

}  // namespace

Signature ConfigSetCommand::signature() const {
  Signature s;
  s.name = "prov config set";
  s.description = "Set one key in the workspace's config.user.toml, as a workflow that can be rolled back.";
  s.extra_description =
      "The edit runs as a one-operation workflow (kind config.set), so it is journaled and `prov workflow rollback "
      "<workflow_id>` puts back the file's exact previous bytes. The file is edited in place: only the key's value "
      "changes, or one line is added to its table (a new [table] at the end when none holds it); comments, order, "
      "quoting and blank lines stay as they were. A key inside an inline table or an array of tables, or one that "
      "holds a table, is refused. Returns {workflow_id, key, value, file, status}; fails when the edit fails.";
  s.search_terms = {"configure", "write", "update", "toml", "user"};
  s.required = {{"key", "The key, as a cell path: workflow.parallel", shape::cell_path()},
                {"value", "Its new value: records become inline tables, durations text (\"1.5s\")", shape::any()}};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"prov config set workflow.parallel 8 | get value", "Set a key; the answer says what was set", Value::integer(8)},
      {"prov config set project.owner grace | get status", "The workflow that set it has completed",
       Value::string("completed")},
      {"let r = (prov config set project.owner grace); prov workflow rollback $r.workflow_id | ignore; prov config get "
       "project.owner",
       "Roll the change back", Value::string("ada")},
  };
  return s;
}

Suggestions ConfigSetCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_positional(info, 0)) return config_keys(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput ConfigSetCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string key = key_text(call);
  if (call.positional.size() < 2)
    throw labeled("Missing the value to set", "needs a value after the key", call.head,
                  "provisioning::input::missing_argument");
  const Value& value = call.positional[1];
  Datum datum = to_datum(value, "the value");
  if (datum.is_null())
    throw labeled("The value cannot be null", "TOML has no null", value.span, "provisioning::input::bad_value",
                  "to remove a key, edit config.user.toml by hand");
  const prov::Config cfg = load_workspace_config(engine, call, nullptr);
  const Datum shown =
      prov::redact(datum, prov::secret_patterns(cfg.merged), prov::parse_key(key).value_or(prov::KeyPath{key}));
  Datum document = DatumRecord{
      {"name", "config set " + key},
      {"operations", DatumList{DatumRecord{{"id", "set"}, {"kind", "config.set"}, {"key", key}, {"value", datum}}}}};
  SubmittedRun run = submit_and_wait(engine, call, std::move(document), "prov config set");
  const Value* status = run.status.get("status");
  return PipelineOutput::of(Value::record({{"workflow_id", Value::string(run.workflow_id, call.head)},
                                           {"key", Value::string(key, call.head)},
                                           {"value", to_value(shown, call.head)},
                                           {"file", Value::string(run.workspace + "/config.user.toml", call.head)},
                                           {"status", status ? *status : Value::nothing(call.head)}},
                                          call.head));
}

}  // namespace prov::plugin
