#include "plugin/commands/workspace_context.hpp"

#include "plugin/commands/datum_value.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

std::vector<Flag> workspace_flags() {
  return {
      {"workspace", 'w', shape::directory(),
       "Workspace root (default: $env.PROVISIONING_WORKSPACE, else the nearest folder upwards with "
       "config.defaults.toml)",
       false},
      {"env", 'e', shape::string(), "Environment whose config.<env>.toml to layer on (default: $env.PROVISIONING_ENV)",
       false},
  };
}

namespace {
std::optional<std::string> string_flag(const EvaluatedCall& call, const char* name) {
  const Value* v = call.flag_value(name);
  if (!v) return std::nullopt;
  if (!v->is(Value::Type::String) && !v->is(Value::Type::Glob))
    throw labeled(std::string("--") + name + " takes a string", "expected a string, got " + v->type_name(), v->span,
                  "provisioning::input::wrong_type");
  return v->as_string();
}
}  // namespace

prov::Config load_workspace_config(EngineInterface& engine, const EvaluatedCall& call, PipelineInput* runtime) {
  prov::ConfigRequest req;
  req.cwd = engine.get_current_dir();
  req.workspace_flag = string_flag(call, "workspace");
  req.env_flag = string_flag(call, "env");
  for (const auto& [k, v] : engine.get_env_vars())
    if (v.is(Value::Type::String)) req.env[k] = v.as_string();
  if (auto pc = engine.get_plugin_config()) req.plugin_config = to_datum(*pc, "$env.config.plugins.provisioning");
  // The core refuses anything but a record (provisioning::config::bad_runtime, on the input).
  if (runtime && !runtime->is_empty()) req.runtime = to_datum(runtime->collect(), "");
  return prov::load_config(req);
}

}  // namespace prov::plugin
