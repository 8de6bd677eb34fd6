#pragma once
/// The layers of a workspace's configuration and where each one comes from.

#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// One layer as read, before merging.
struct Layer {
  std::string name;             ///< builtin, defaults, global, user, env, plugin, runtime
  std::string source;           ///< where it was looked for; "" when nothing was to be looked for
  std::optional<Datum> values;  ///< a record when the layer exists
};

/// The built-in defaults of the workspace at `workspace`: paths.base, paths.state,
/// providers.default, workflow.parallel (the number of cores) and secrets.patterns.
Datum builtin_defaults(const std::string& workspace);

/// The file of the global layer: $XDG_CONFIG_HOME/provisioning/config.toml, else
/// $HOME/.config/provisioning/config.toml, from the request's environment; "" without either.
std::string global_config_path(const ConfigRequest& request);

/// Every layer, lowest first, read but not merged; missing files are layers without values.
/// Throws ConfigError: `provisioning::config::read` / `parse` for a bad file,
/// `environment_not_found` when --env names an environment without a file (blamed on flag
/// "env"), `bad_plugin_config` / `bad_runtime` (blamed on input) for values that are not records.
std::vector<Layer> read_layers(const ConfigRequest& request, const std::string& workspace,
                               const std::string& environment);

}  // namespace prov
