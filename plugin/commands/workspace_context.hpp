#pragma once
/// What every workspace-aware command asks the engine first: Nu's current directory, its
/// environment, the plugin's configuration, and the --workspace/--env flags, loaded into the
/// core's configuration.

#include "core/config/config.hpp"
#include "core/state/open_store.hpp"
#include "core/support/limits.hpp"
#include "core/support/subprocess.hpp"
#include "plugin/commands/command.hpp"

namespace prov::plugin {

/// The --workspace and --env flags every workspace-aware command takes.
std::vector<Flag> workspace_flags();

/// --config RECORD: the runtime layer for commands whose pipeline input is not configuration.
Flag config_flag();

/// Builds the request from the engine and the call and loads the configuration. `runtime` is
/// the record given on the pipeline, if the command takes one; a --config flag gives it too. Throws
/// `provisioning::limits::depth` when the merged configuration nests deeper than limits.depth.
prov::Config load_workspace_config(EngineInterface& engine, const EvaluatedCall& call, PipelineInput* runtime);

/// This plugin's limits (its environment's) with the workspace's `[limits]` table over them.
prov::Limits workspace_limits(const prov::Config& config);

/// Where the workspace's state directory is: `paths.state`, else `<workspace>/.provisioning`.
std::string state_dir_path(const prov::Config& config);
/// Throws ConfigError `provisioning::workspace::none`, saying how to make one, when `config` names
/// no workspace (no --workspace, no $env.PROVISIONING_WORKSPACE, no config.defaults.toml above).
void require_workspace(const prov::Config& config);
/// The workspace's store (its state directory, created when missing); refuses outside a
/// workspace (require_workspace).
std::unique_ptr<prov::WorkflowStore> open_store(const prov::Config& config);
/// The workspace's store when its state directory exists (for readers that must not create
/// it); null otherwise, and outside a workspace.
std::unique_ptr<prov::WorkflowStore> existing_store(const prov::Config& config);

/// Nu's environment as processes see it: strings as they are, lists of strings joined with ':'
/// (PATH), ints and bools as text; other values are left out.
prov::Environment engine_environment(EngineInterface& engine);

/// Nu's $env.PATH as one ':'-separated string (what a program started for the user would
/// search); empty when it is unset.
std::string engine_path(EngineInterface& engine);

/// The `nu` that hosts this plugin (`workflow.nu_path` of the configuration overrides it;
/// "nu" when neither is known).
std::string hosting_nu(const prov::Config& config);

/// This plugin's own binary.
std::string self_exe();

}  // namespace prov::plugin
