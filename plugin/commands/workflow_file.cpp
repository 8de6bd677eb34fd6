#include "plugin/commands/workflow_file.hpp"

#include <algorithm>
#include <filesystem>

#include "core/support/nearest.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace fs = std::filesystem;

std::string workflows_dir(const prov::Config& config) {
  if (const Datum* paths = config.merged.find("paths"))
    if (const Datum* w = paths->find("workflows"); w && w->is_string() && !w->str().empty())
      return (fs::path(config.workspace) / w->str()).lexically_normal().string();
  return config.workspace + "/workflows";
}

std::vector<std::pair<std::string, std::string>> workspace_workflows(const prov::Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  if (config.workspace_origin == prov::WorkspaceOrigin::None) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(workflows_dir(config), ec)) {
    const fs::path& p = entry.path();
    if ((p.extension() == ".toml" || p.extension() == ".json") && entry.is_regular_file(ec))
      out.emplace_back(p.stem().string(), p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string workflow_file(EngineInterface& engine, const EvaluatedCall& call, const Value& arg) {
  std::string given = arg.as_string();
  const std::string cwd = engine.get_current_dir();
  const std::string in_cwd = !given.empty() && given[0] == '/' ? given : cwd + "/" + given;
  // Nu hands an unquoted path argument over made absolute against its current directory.
  if (given.starts_with(cwd + "/")) given = given.substr(cwd.size() + 1);
  const bool looks_like_path = given.empty() || given.find('/') != std::string::npos || given.ends_with(".toml") ||
                               given.ends_with(".json") || given == "." || given == "..";
  std::error_code ec;
  if (looks_like_path || fs::is_regular_file(in_cwd, ec)) return in_cwd;
  const prov::Config config = load_workspace_config(engine, call, nullptr);
  const auto known = workspace_workflows(config);
  std::vector<std::string> names;
  for (const auto& [name, file] : known) {
    if (name == given) return file;
    names.push_back(name);
  }
  std::string help;
  if (config.workspace_origin == prov::WorkspaceOrigin::None)
    help = "a bare name is looked up in a workspace's workflows folder, and this is no workspace; give a path";
  else if (names.empty())
    help = workflows_dir(config) + " holds no .toml or .json workflow";
  else if (auto near = prov::nearest_names(given, names); !near.empty())
    help = "did you mean " + prov::join_alternatives(near) + "?";
  else
    help = "workflows in " + workflows_dir(config) + ": " + prov::join_alternatives(names);
  throw labeled(
      "No workflow called " + given,
      "no file " + given + " here, nor " + given + ".toml or " + given + ".json in the workspace's workflows folder",
      arg.span, "provisioning::workflow::not_found", help);
}

}  // namespace prov::plugin
