#pragma once
/// What every provider-facing command (`prov provider …`, `prov server …`) needs: the
/// workspace's configuration and state directory, its providers, and a ProviderContext filled
/// from the engine (Nu's environment, the hosting `nu`, Ctrl-C). Also the plugin's TTL cache.

#include <memory>

#include "core/config/config.hpp"
#include "core/providers/catalog.hpp"
#include "core/support/ttl_cache.hpp"
#include "plugin/commands/command.hpp"

namespace prov::plugin {

struct ProviderSession {
  prov::Config config;
  std::string state_dir;  ///< the workspace's state folder on this host (providers keep theirs there)
  prov::ProviderCatalog catalog;
  prov::ProviderContext context;  ///< config is filled per provider by open()
  std::string supervisor_exe;     ///< this plugin's binary, which supervises `local` servers

  /// The provider --provider names (providers.default when absent). An unknown name is blamed
  /// on the flag.
  std::unique_ptr<prov::Provider> open(const EvaluatedCall& call) const;
  /// The provider called `name`.
  std::unique_ptr<prov::Provider> open(const std::string& name) const;
  /// The name --provider gives, else providers.default.
  std::string provider_name(const EvaluatedCall& call) const;
};

/// Loads the workspace (--workspace, --env) and finds its providers. The session asks `engine`
/// for Nu's environment only when a process must start; use it only during this call.
ProviderSession open_provider_session(EngineInterface& engine, const EvaluatedCall& call);

/// The --provider flag every server command takes.
Flag provider_flag();

/// The plugin process's TTL cache (provider availability), shown by `prov cache stats`.
prov::TtlCache& plugin_cache();

/// Until when this plugin holds state worth keeping alive while idle: its live cache entries, and
/// its warm Nu provider workers for `providers.cache_ttl` after their last use. nullopt: nothing.
std::optional<std::chrono::steady_clock::time_point> provider_state_until();

}  // namespace prov::plugin
