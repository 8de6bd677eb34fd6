#include "core/config/config.hpp"

#include <chrono>

#include "core/config/git.hpp"
#include "core/config/interpolate.hpp"
#include "core/config/key_path.hpp"
#include "core/config/layers.hpp"
#include "core/config/merge.hpp"
#include "core/config/typed_keys.hpp"
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

namespace {

/// The failure's error, saying which file set the key.
ConfigError blamed_on_file(const InterpolationFailure& failure, const Provenance& provenance) {
  // A key inside a list is not a leaf of its own: the list's origin is its.
  for (size_t n = failure.key.size(); n > 0; --n) {
    auto it = provenance.find(KeyPath(failure.key.begin(), failure.key.begin() + static_cast<ptrdiff_t>(n)));
    if (it == provenance.end()) continue;
    ConfigError e(
        failure.error.code(),
        std::string(failure.error.what()) + " (" + render_key(failure.key) + " is set in " + it->second.source + ")",
        failure.error.help(), failure.error.blame());
    return e;
  }
  return failure.error;
}

}  // namespace

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
  Interpolated done = interpolate_each(
      merged, InterpolationContext{
                  request.env, std::chrono::system_clock::now(), [&workspace] { return current_git_branch(workspace); },
                  [&request](const std::string& name) { return request.env_var(name); }, request.env_names});
  config.merged = std::move(done.value);
  type_known_keys(config.merged, done.failures);
  for (InterpolationFailure& f : done.failures) config.failures.push_back({f.key, blamed_on_file(f, provenance)});
  config.leaves = collect_leaves(config.merged, provenance);
  return config;
}

namespace {

/// Whether one of the paths is a prefix of the other (or they are equal).
bool overlaps(const KeyPath& a, const KeyPath& b) {
  const size_t n = std::min(a.size(), b.size());
  return std::equal(a.begin(), a.begin() + static_cast<ptrdiff_t>(n), b.begin());
}

}  // namespace

void Config::require(const KeyPath& path, const Blame& blame) const {
  for (const InterpolationFailure& f : failures)
    if (overlaps(f.key, path)) {
      ConfigError e = f.error;
      if (blame.kind != Blame::Kind::none) e.blamed_on(blame);
      throw e;
    }
}

const Datum& Config::all() const {
  if (!failures.empty()) throw failures.front().error;
  return merged;
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
  config.require(path, Blame::argument("path"));
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
