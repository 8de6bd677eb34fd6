#pragma once
/// What every workspace-aware command asks the engine first: Nu's current directory, its
/// environment, the plugin's configuration, and the --workspace/--env flags, loaded into the
/// core's configuration.

#include "core/config/config.hpp"
#include "plugin/commands/command.hpp"

namespace prov::plugin {

/// The --workspace and --env flags every workspace-aware command takes.
std::vector<Flag> workspace_flags();

/// Builds the request from the engine and the call and loads the configuration. `runtime` is
/// the record given on the pipeline, if the command takes one.
prov::Config load_workspace_config(EngineInterface& engine, const EvaluatedCall& call, PipelineInput* runtime);

}  // namespace prov::plugin
