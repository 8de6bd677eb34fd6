#include "core/config/layers.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "core/config/interpolate.hpp"
#include "core/config/toml_file.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"
#include "core/support/redact.hpp"

namespace prov {

namespace {

/// The environments that have a file in the workspace, for help lines.
std::vector<std::string> environments_in(const std::string& workspace) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(workspace, ec)) {
    const std::string file = entry.path().filename().string();
    const std::string prefix = "config.", suffix = ".toml";
    if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::string name = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (name != "defaults" && name != "user") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Layer file_layer(std::string name, std::string path) {
  Layer layer{std::move(name), std::move(path), std::nullopt};
  if (!layer.source.empty()) layer.values = read_toml_file(layer.source);
  return layer;
}

Layer env_layer(const ConfigRequest& request, const std::string& workspace,
                const std::string& environment) {
  if (environment.empty()) return {"env", "", std::nullopt};
  Layer layer = file_layer("env", workspace + "/config." + environment + ".toml");
  if (layer.values) return layer;
  // A misspelled environment is an error wherever it comes from, never a quiet fall-back to
  // the layers below it.
  const std::vector<std::string> known = environments_in(workspace);
  const std::vector<std::string> near = nearest_names(environment, known, 1);
  std::string help = near.empty() ? std::string() : "did you mean " + near.front() + "? ";
  help += "create " + layer.source;
  if (!known.empty()) {
    help += ", or use one of:";
    for (const std::string& k : known) help += " " + k;
  }
  const bool from_flag = request.env_flag.has_value();
  if (!from_flag) help += "; or leave it unset: hide-env PROVISIONING_ENV";
  throw ConfigError("provisioning::config::environment_not_found",
                    "environment '" + environment + "'" + (from_flag ? "" : " (from $env.PROVISIONING_ENV)") +
                        " has no configuration file: " + layer.source + " does not exist",
                    help, from_flag ? Blame::flag("env") : Blame{});
}

/// A record given by the caller; null counts as not given.
std::optional<Datum> given_record(const std::optional<Datum>& value, const char* code,
                                  const std::string& what, const std::string& help,
                                  Blame blame) {
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_record())
    throw ConfigError(code, what + " must be a record, not " + value->a_type_name(), help,
                      std::move(blame));
  return value;
}

}  // namespace

Datum builtin_defaults(const std::string& workspace) {
  const unsigned cores = std::thread::hardware_concurrency();
  return DatumRecord{
      // The path is data, not a template: keep any {{ in it from being read as a placeholder.
      {"paths", DatumRecord{{"base", escape_placeholders(workspace)},
                            {"state", "{{paths.base}}/.provisioning"}}},
      {"providers", DatumRecord{{"default", "local"}}},
      {"workflow", DatumRecord{{"parallel", static_cast<int64_t>(cores == 0 ? 1 : cores)}}},
      {"secrets", DatumRecord{{"patterns", [] {
                                 DatumList list;
                                 for (const std::string& p : default_secret_patterns()) list.emplace_back(p);
                                 return list;
                               }()}}},
  };
}

std::string global_config_path(const ConfigRequest& request) {
  const std::string* xdg = request.env_var("XDG_CONFIG_HOME");
  if (xdg && std::filesystem::path(*xdg).is_absolute())  // the XDG spec ignores relative ones
    return *xdg + "/provisioning/config.toml";
  if (const std::string* home = request.env_var("HOME"))
    return *home + "/.config/provisioning/config.toml";
  return "";
}

std::vector<Layer> read_layers(const ConfigRequest& request, const std::string& workspace,
                               const std::string& environment) {
  std::vector<Layer> layers;
  layers.push_back({"builtin", "built-in", builtin_defaults(workspace)});
  layers.push_back(file_layer("defaults", workspace + "/config.defaults.toml"));
  layers.push_back(file_layer("global", global_config_path(request)));
  layers.push_back(file_layer("user", workspace + "/config.user.toml"));
  layers.push_back(env_layer(request, workspace, environment));
  layers.push_back({"plugin", "$env.config.plugins.provisioning",
                    given_record(request.plugin_config, "provisioning::config::bad_plugin_config",
                                 "$env.config.plugins.provisioning",
                                 "set it to a record, like { workflow: { parallel: 4 } }", {})});
  layers.push_back({"runtime", "pipeline input",
                    given_record(request.runtime, "provisioning::config::bad_runtime",
                                 "the pipeline input",
                                 "pipe in a record of overrides, like {workflow: {parallel: 2}}",
                                 Blame::input())});
  return layers;
}

}  // namespace prov
