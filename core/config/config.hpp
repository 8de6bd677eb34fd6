#pragma once
/// The workspace's configuration: layered TOML files, plugin settings and the pipeline's record,
/// merged, interpolated, and traced back to where every value came from.
///
/// Layers, lowest first: builtin, defaults (<ws>/config.defaults.toml), global
/// ($XDG_CONFIG_HOME/provisioning/config.toml), user (<ws>/config.user.toml), env
/// (<ws>/config.<ENV>.toml), plugin ($env.config.plugins.provisioning), runtime (pipeline input).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/interpolate.hpp"
#include "core/config/key_path.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// Everything the loader needs from its caller; the plugin fills it from the Nushell engine.
/// The loader reads no process state (cwd, environment) of its own.
struct ConfigRequest {
  std::string cwd;                            ///< absolute: Nu's current directory
  std::optional<std::string> workspace_flag;  ///< --workspace as typed: relative to cwd, or ~/…
  std::optional<std::string> env_flag;        ///< --env NAME
  std::map<std::string, std::string> env;     ///< Nu's environment variables (the string ones)
  /// Asked for a variable `env` lacks, so a caller can fetch variables one at a time instead of
  /// all up front; its answers are kept. nullopt: unset. Unset function: `env` is everything.
  std::function<std::optional<std::string>(const std::string&)> env_lookup;
  /// Every variable's name, for suggestions (unset: `env`'s names).
  std::function<std::vector<std::string>()> env_names;
  std::optional<Datum> plugin_config;         ///< $env.config.plugins.provisioning: record or null
  std::optional<Datum> runtime;               ///< the pipeline's input: a record or null

  /// The environment variable `name`, or nullptr when it is unset or empty.
  const std::string* env_var(const std::string& name) const;

  mutable std::map<std::string, std::optional<std::string>> looked_up_ = {};  ///< env_lookup's answers so far
};

/// One leaf of the merged configuration (a value that is not a record, or an empty record) and
/// the layer that set it last.
struct ConfigLeaf {
  std::string key;     ///< dotted path; members holding '.', spaces or quotes are double-quoted
  Datum value;         ///< the interpolated value
  std::string layer;   ///< builtin, defaults, global, user, env, plugin or runtime
  /// the file's path, "built-in", "$env.config.plugins.provisioning" or "pipeline input"
  std::string source;
};

/// A layer the loader considered.
struct ConfigLayerInfo {
  std::string name;    ///< as in ConfigLeaf::layer
  std::string source;  ///< where it was looked for; "" when nothing was to be looked for
  bool found = false;  ///< whether it existed and contributed
};

/// How the workspace root was chosen.
enum class WorkspaceOrigin {
  Flag,         ///< --workspace
  Environment,  ///< $env.PROVISIONING_WORKSPACE
  Found,        ///< the nearest ancestor of the current directory holding config.defaults.toml
  None,         ///< none of these: the current directory stands in, and holds no workspace
};

/// The loaded configuration of one workspace. A key whose value cannot be had (a placeholder
/// that does not resolve, a duration that does not parse) is null in `merged` and listed in
/// `failures`: it fails only where it is needed (require, config_get, all).
struct Config {
  std::string workspace;                ///< absolute, normalized
  /// How the workspace was chosen; None: no workspace, `workspace` is the current directory.
  WorkspaceOrigin workspace_origin = WorkspaceOrigin::None;
  std::string environment;              ///< "" when none
  Datum merged;                         ///< interpolated record
  std::vector<ConfigLeaf> leaves;       ///< provenance of every leaf, in merged order (depth first)
  std::vector<ConfigLayerInfo> layers;  ///< every layer, in order, found or not
  /// Keys that failed, each error naming its key and the file that set it, in the order met.
  std::vector<InterpolationFailure> failures;

  /// Throws the failure of `path`, of a key above it or of one below it (blamed on `blame`).
  void require(const KeyPath& path, const Blame& blame = {}) const;
  /// `merged` when every key resolved; else throws the first failure.
  const Datum& all() const;
};

/// Finds the workspace, reads and merges every layer and interpolates placeholders.
/// Throws ConfigError (codes `provisioning::config::*`) naming the file, key or flag at fault
/// for what concerns every key (a file, a flag); a key's own fault goes to Config::failures.
Config load_config(const ConfigRequest& request);

/// The value at `path` (members already split; a single member holding dots is split on them;
/// members that look like integers index lists). Throws the key's failure (Config::require) or
/// ConfigError `provisioning::config::key_not_found`, blamed on argument "path", with nearby keys as help.
const Datum& config_get(const Config& config, const std::vector<std::string>& path);

}  // namespace prov
