#include "core/config/config.hpp"

#include <chrono>

#include "core/config/git.hpp"
#include "core/config/interpolate.hpp"
#include "core/config/key_path.hpp"
#include "core/config/layers.hpp"
#include "core/config/merge.hpp"
#include "core/config/workspace.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

const std::string* ConfigRequest::env_var(const std::string& name) const {
  auto it = env.find(name);
  if (it != env.end()) return it->second.empty() ? nullptr : &it->second;
  if (!env_lookup) return nullptr;
  auto seen = looked_up_.find(name);
  if (seen == looked_up_.end()) seen = looked_up_.emplace(name, env_lookup(name)).first;
  return seen->second && !seen->second->empty() ? &*seen->second : nullptr;
}

Config load_config(const ConfigRequest& request) {
  Config config;
  WorkspaceRoot root = find_workspace(request);
  config.workspace = std::move(root.path);
  config.workspace_origin = root.origin;
  config.environment = resolve_environment(request);

  Datum merged = DatumRecord{};
  Provenance provenance;
  for (const Layer& layer : read_layers(request, config.workspace, config.environment)) {
    config.layers.push_back({layer.name, layer.source, layer.values.has_value()});
    if (layer.values) merge_layer(merged, *layer.values, {layer.name, layer.source}, provenance);
  }

  const std::string& workspace = config.workspace;
  config.merged = interpolate(
      merged, InterpolationContext{request.env, std::chrono::system_clock::now(),
                                   [&workspace] { return current_git_branch(workspace); },
                                   [&request](const std::string& name) { return request.env_var(name); },
                                   request.env_names});
  config.leaves = collect_leaves(config.merged, provenance);
  return config;
}

const Datum& config_get(const Config& config, const std::vector<std::string>& members) {
  KeyPath path = members;
  if (members.size() == 1 && members[0].find('.') != std::string::npos) {
    std::optional<KeyPath> split = parse_key(members[0]);
    if (!split)
      throw ConfigError("provisioning::config::key_not_found",
                        "'" + members[0] + "' is not a valid key path",
                        "write keys as a.b.c, quoting members that hold dots: a.\"b.c\"",
                        Blame::argument("path"));
    path = std::move(*split);
  }
  const PathLookup found = lookup_path(config.merged, path);
  if (found.found(path)) return *found.value;

  const KeyPath prefix(path.begin(), path.begin() + static_cast<ptrdiff_t>(found.depth));
  const Datum& deepest = *found.value;
  const std::string& missing = path[found.depth];
  std::string why;
  if (prefix.empty())
    why = "the configuration has no key " + render_key({missing});
  else if (deepest.is_record())
    why = render_key(prefix) + " has no key " + render_key({missing});
  else if (deepest.is_list())
    why = render_key(prefix) + " is a list of " + std::to_string(deepest.list().size()) +
          " items and has no item " + missing;
  else
    why = render_key(prefix) + " is " + deepest.a_type_name() + " and has no members";

  std::string help;
  std::vector<std::string> near = nearest_keys(config.merged, path);
  if (!near.empty()) {
    help = "did you mean " + join_alternatives(near) + "?";
  } else if (deepest.is_record() && !deepest.record().empty()) {
    help = prefix.empty() ? "top-level keys:" : "keys under " + render_key(prefix) + ":";
    for (const auto& [key, value] : deepest.record()) help += " " + render_key({key});
  }
  throw ConfigError("provisioning::config::key_not_found",
                    "no configuration key " + render_key(path) + ": " + why, help,
                    Blame::argument("path"));
}

}  // namespace prov
