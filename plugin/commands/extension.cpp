#include "plugin/commands/extension.hpp"

#include "core/extensions/extension.hpp"
#include "core/support/nearest.hpp"
#include "core/support/version.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

Signature ExtensionListCommand::signature() const {
  Signature s;
  s.name = "prov extension list";
  s.description = "Every extension of the workspace: name, version, kind, path, valid, compatible, problems.";
  s.extra_description =
      "Extensions live in paths.extensions (default <workspace>/extensions), one folder each with an "
      "extension.toml: [extension] name, version (semver), type (provider, taskserv, cluster, workflow), "
      "description, entry_points (name = path inside the folder), and [compatibility] provisioning = a semver "
      "range of plugin versions. The file's type is the `kind` column, the name providers and operations use. Invalid or incompatible extensions are listed with their problems and never "
      "loaded; entry points that leave the folder (`..`, absolute paths, symlinks) are rejected.";
  s.search_terms = {"plugins", "addons", "validate", "compatibility"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov extension list | select name version kind valid compatible", "Every extension and whether it is used",
       table({"name", "version", "kind", "valid", "compatible"},
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
  cfg.require({"paths", "extensions"});
  std::vector<Value> rows;
  for (const auto& e : prov::workspace_extensions(cfg.merged, cfg.workspace))
    rows.push_back(to_value(e.to_datum(), call.head));
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

Signature ExtensionGetCommand::signature() const {
  Signature s;
  s.name = "prov extension get";
  s.description = "One extension of the workspace by name, with its entry points and problems.";
  s.extra_description = "The same record as a row of `prov extension list`, for one extension. An unknown name is "
                        "an error that suggests the nearest names.";
  s.search_terms = {"show", "inspect", "manifest", "describe"};
  s.required = {{"name", "The extension's name, as `prov extension list` shows it", shape::string()}};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"prov extension get redis-taskserv | select name version kind compatibility",
       "One extension and the plugin versions it works with",
       Value::record({{"name", Value::string("redis-taskserv")},
                      {"version", Value::string("0.3.1")},
                      {"kind", Value::string("taskserv")},
                      {"compatibility", Value::string(">=0.1.0, <0.2.0")}})},
      {"prov extension get redis-taskserv | get entry_points | columns", "The names of its entry points",
       strings({"install"})},
  };
  return s;
}

PipelineOutput ExtensionGetCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const Value& arg = call.positional.at(0);
  const std::string name = arg.as_string();
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  cfg.require({"paths", "extensions"});
  std::vector<std::string> names;
  for (const auto& e : prov::workspace_extensions(cfg.merged, cfg.workspace)) {
    if (e.name == name) return PipelineOutput::of(to_value(e.to_datum(), call.head));
    names.push_back(e.name);
  }
  std::vector<std::string> near = prov::nearest_names(name, names);
  throw labeled("No extension called `" + name + "` in this workspace", "unknown extension", arg.span,
                "provisioning::extension::not_found",
                !near.empty()   ? "did you mean " + prov::join_alternatives(near) + "?"
                : names.empty() ? "this workspace has no extensions"
                                : "known extensions: " + prov::join_alternatives(names));
}

Suggestions ExtensionGetCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_positional(info, 0)) return extension_names(engine, info.call);
  return complete_shared_flags(engine, info);
}

}  // namespace prov::plugin
