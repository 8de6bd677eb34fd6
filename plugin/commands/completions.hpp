#pragma once
/// Where completion items come from: the workspace's workflows, providers, servers,
/// configuration keys and environments, each with a short description. They read files only:
/// no provider process is started, no state directory is created, and a provider that cannot
/// be read is skipped. The workspace is the one the command would use: Nu's current directory
/// and environment, and the --workspace and --env flags written as literals.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/providers/provider.hpp"
#include "plugin/commands/command.hpp"

namespace prov::plugin {

using Suggestions = std::optional<std::vector<DynamicSuggestion>>;

/// The ids of the workspace's workflows, newest first, described by name and status.
std::vector<DynamicSuggestion> workflow_ids(EngineInterface& engine, const EvaluatedCall& call);
/// The usable providers of the workspace, described by kind.
std::vector<DynamicSuggestion> provider_names(EngineInterface& engine, const EvaluatedCall& call);
/// The servers of the --provider provider (default providers.default), described by name and
/// state: `local` from its records on disk, others from the list `prov server list` last cached.
std::vector<DynamicSuggestion> server_ids(EngineInterface& engine, const EvaluatedCall& call);
/// Every configuration key (tables and leaves) as a dotted path, described by value and layer;
/// secrets redacted.
std::vector<DynamicSuggestion> config_keys(EngineInterface& engine, const EvaluatedCall& call);
/// The workspace's extensions, described by version and type, and why one is not used.
std::vector<DynamicSuggestion> extension_names(EngineInterface& engine, const EvaluatedCall& call);
/// The environments of the workspace: `dev` for a config.dev.toml.
std::vector<DynamicSuggestion> environments(EngineInterface& engine, const EvaluatedCall& call);
/// The workflows of the workspace's workflows folder by name (`deploy` for workflows/deploy.toml),
/// then the .toml and .json files and the folders of Nu's current directory.
std::vector<DynamicSuggestion> workflow_files(EngineInterface& engine, const EvaluatedCall& call);
/// Items for a workflow command: its file argument (positional 0) and the shared flags.
Suggestions complete_workflow_arg(EngineInterface& engine, const GetCompletionInfo& info);
/// A fixed set of values with their descriptions.
std::vector<DynamicSuggestion> fixed(std::vector<std::pair<std::string, std::string>> values);

/// Items for the flags many commands share: --env and --provider. nullopt for other arguments.
Suggestions complete_shared_flags(EngineInterface& engine, const GetCompletionInfo& info);
/// True when `info` asks about positional `index`.
bool asks_positional(const GetCompletionInfo& info, size_t index);
/// True when `info` asks about flag `name`.
bool asks_flag(const GetCompletionInfo& info, std::string_view name);

/// Keeps a provider's server list for server_ids (in the plugin's TTL cache).
void remember_servers(const std::string& workspace, const std::string& provider,
                      const std::vector<prov::Server>& servers);

}  // namespace prov::plugin
