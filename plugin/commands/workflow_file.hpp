#pragma once
/// Where a workflow named on the command line is: a path relative to Nu's current directory, or
/// a bare name (`deploy`) found in the workspace's workflows folder (`paths.workflows`, default
/// <workspace>/workflows) as deploy.toml or deploy.json.

#include <string>
#include <utility>
#include <vector>

#include "core/config/config.hpp"
#include "plugin/commands/command.hpp"

namespace prov::plugin {

/// The workspace's workflows folder: `paths.workflows` (relative to the workspace root), else
/// <workspace>/workflows.
std::string workflows_dir(const prov::Config& config);

/// The workflows of that folder: {name, file} for each *.toml and *.json, sorted by name.
std::vector<std::pair<std::string, std::string>> workspace_workflows(const prov::Config& config);

/// The file `arg` names: a path (it holds '/' or ends in .toml or .json, or such a file exists
/// in Nu's current directory) is relative to Nu's current directory; a bare name is looked up in
/// the workflows folder. A name found nowhere is an error on `arg` listing the known names.
std::string workflow_file(EngineInterface& engine, const EvaluatedCall& call, const Value& arg);

}  // namespace prov::plugin
