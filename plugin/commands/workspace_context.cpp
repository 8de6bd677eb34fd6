#include "plugin/commands/workspace_context.hpp"

#include <unistd.h>

#include <filesystem>

#include "core/config/workspace.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

Flag config_flag() {
  return {"config", std::nullopt, shape::record(),
          "A configuration record layered over the workspace's (the runtime layer, like a record piped into `prov "
          "config`)",
          false};
}

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
  // Nushell's whole environment holds $env.config and is costly to fetch and decode: variables
  // are asked for one by one, as the loader needs them.
  req.env_lookup = [&engine](const std::string& name) -> std::optional<std::string> {
    std::optional<Value> v = engine.get_env_var(name);
    if (v && v->is(Value::Type::String)) return v->as_string();
    return std::nullopt;
  };
  req.env_names = [&engine] {
    std::vector<std::string> names;
    for (const auto& [k, v] : engine.get_env_vars())
      if (v.is(Value::Type::String)) names.push_back(k);
    return names;
  };
  if (auto pc = engine.get_plugin_config()) req.plugin_config = to_datum(*pc, "$env.config.plugins.provisioning");
  // The core refuses anything but a record (provisioning::config::bad_runtime, on the input).
  if (runtime && !runtime->is_empty()) req.runtime = to_datum(runtime->collect(), "");
  // Commands whose input is something else take the runtime record as --config.
  if (const Value* c = call.flag_value("config")) {
    if (!c->is(Value::Type::Record))
      throw labeled("--config takes a record", "expected a record, got " + c->type_name(), c->span,
                    "provisioning::input::wrong_type", "for example: --config {workflow: {parallel: 1}}");
    req.runtime = to_datum(*c, "--config");
  }
  prov::Config cfg = prov::load_config(req);
  prov::check_depth(cfg.merged, workspace_limits(cfg), "the configuration of " + cfg.workspace);
  return cfg;
}

prov::Limits workspace_limits(const prov::Config& config) {
  config.require({"limits"});
  return prov::Limits::process().with_config(config.merged);
}

std::string state_dir_path(const prov::Config& cfg) { return prov::state_folder(cfg); }

void require_workspace(const prov::Config& cfg) {
  if (cfg.workspace_origin != prov::WorkspaceOrigin::None) return;
  throw prov::ConfigError(
      "provisioning::workspace::none",
      cfg.workspace + " is not in a workspace: no config.defaults.toml here or above, no --workspace, no "
                      "$env.PROVISIONING_WORKSPACE; nothing is written outside a workspace",
      "make one with `prov workspace init` (here) or `prov workspace init <dir>`, or name one with --workspace "
      "<dir> or `prov workspace use <dir>`");
}

std::unique_ptr<prov::WorkflowStore> open_store(const prov::Config& cfg) {
  require_workspace(cfg);
  return prov::open_store(prov::store_settings(cfg, state_dir_path(cfg)));
}

std::unique_ptr<prov::WorkflowStore> existing_store(const prov::Config& cfg) {
  if (cfg.workspace_origin == prov::WorkspaceOrigin::None) return nullptr;
  const prov::StoreSettings settings = prov::store_settings(cfg, state_dir_path(cfg));
  // A shared store has its workflows whether or not this host made its state folder yet.
  std::error_code ec;
  if (settings.backend == prov::StoreSettings::Backend::file && !std::filesystem::is_directory(settings.state_path, ec))
    return nullptr;
  return prov::open_store(settings);
}

namespace {
/// A Nu environment value as a process sees it: strings as they are, lists of strings joined
/// with ':' (PATH), ints and bools as text; nullopt for anything else.
std::optional<std::string> process_text(const Value& v) {
  if (v.is(Value::Type::String)) return v.as_string();
  if (v.is(Value::Type::Int)) return std::to_string(v.as_int());
  if (v.is(Value::Type::Bool)) return std::string(v.as_bool() ? "true" : "false");
  if (!v.is(Value::Type::List)) return std::nullopt;
  std::string joined;
  for (const auto& e : v.as_list()) {
    if (!e.is(Value::Type::String)) return std::nullopt;
    joined += (joined.empty() ? "" : ":") + e.as_string();
  }
  return joined;
}
}  // namespace

prov::Environment engine_environment(EngineInterface& engine) {
  prov::Environment env;
  for (const auto& [k, v] : engine.get_env_vars())
    if (auto text = process_text(v)) env[k] = std::move(*text);
  return env;
}

std::string engine_path(EngineInterface& engine) {
  std::optional<Value> v = engine.get_env_var("PATH");
  std::optional<std::string> text = v ? process_text(*v) : std::nullopt;
  return text.value_or("");
}

std::string hosting_nu(const prov::Config& config) {
  config.require({"workflow", "nu_path"});
  if (const Datum* wf = config.merged.find("workflow"))
    if (const Datum* p = wf->find("nu_path"); p && p->is_string() && !p->str().empty()) return p->str();
  std::string nu = prov::process_executable(::getppid());
  return nu.empty() ? "nu" : nu;
}

std::string self_exe() { return prov::self_executable(); }

}  // namespace prov::plugin
