#include "plugin/commands/extension.hpp"

#include "core/extensions/extension.hpp"
#include "core/support/version.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"

namespace prov::plugin {

Signature ExtensionListCommand::signature() const {
  Signature s;
  s.name = "prov extension list";
  s.description = "Every extension of the workspace: name, version, type, path, valid, compatible, problems.";
  s.extra_description =
      "Extensions live in paths.extensions (default <workspace>/extensions), one folder each with an "
      "extension.toml: [extension] name, version (semver), type (provider, taskserv, cluster, workflow), "
      "description, entry_points (name = path inside the folder), and [compatibility] provisioning = a semver "
      "range of plugin versions. Invalid or incompatible extensions are listed with their problems and never "
      "loaded; entry points that leave the folder (`..`, absolute paths, symlinks) are rejected.";
  s.search_terms = {"plugins", "addons", "validate", "compatibility"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov extension list | select name version type valid compatible", "Every extension and whether it is used",
       table({"name", "version", "type", "valid", "compatible"},
             {{Value::string("legacy-dns"), Value::string("1.2.0"), Value::string("taskserv"), Value::boolean(true),
               Value::boolean(false)},
              {Value::string("redis-taskserv"), Value::string("0.3.1"), Value::string("taskserv"), Value::boolean(true),
               Value::boolean(true)}})},
      {"prov extension list | where not ($it.valid and $it.compatible) | select name problems",
       "Why some extensions are not used",
       table({"name", "problems"},
             {{Value::string("legacy-dns"),
               strings({std::string("needs provisioning >=0.0.1, <0.1.0; this plugin is ") + prov::kVersion})}})},
  };
  return s;
}

PipelineOutput ExtensionListCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::string dir = cfg.workspace + "/extensions";
  if (const Datum* paths = cfg.merged.find("paths"))
    if (const Datum* e = paths->find("extensions"); e && e->is_string() && !e->str().empty()) dir = e->str();
  std::vector<Value> rows;
  for (const auto& e : prov::discover_extensions(dir, prov::plugin_semver()))
    rows.push_back(to_value(e.to_datum(), call.head));
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

}  // namespace prov::plugin
