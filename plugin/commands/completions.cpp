#include "plugin/commands/completions.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/config/key_path.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/extensions/extension.hpp"
#include "core/providers/catalog.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/redact.hpp"
#include "plugin/commands/provider_session.hpp"
#include "plugin/commands/workflow_file.hpp"
#include "plugin/commands/workspace_context.hpp"

namespace prov::plugin {

namespace fs = std::filesystem;

namespace {

/// Workflows described beyond this many (newest first) are listed without a description:
/// describing one reads its journal.
constexpr size_t kDescribedWorkflows = 64;
constexpr size_t kDescriptionWidth = 60;

DynamicSuggestion item(std::string value, std::string description) {
  DynamicSuggestion s;
  s.value = std::move(value);
  if (!description.empty()) s.description = std::move(description);
  return s;
}

std::string cache_key(const std::string& workspace, const std::string& provider) {
  return "servers:" + workspace + ":" + provider;
}

std::string short_text(const Datum& value) {
  std::string text = value.is_string() ? value.str() : prov::encode_json(value);
  if (text.size() > kDescriptionWidth) text = text.substr(0, kDescriptionWidth - 3) + "...";
  return text;
}

}  // namespace

std::vector<DynamicSuggestion> workflow_ids(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::vector<DynamicSuggestion> out;
  const auto store = existing_store(cfg);
  if (!store) return out;
  for (const auto& id : store->list_workflows()) {
    std::string description;
    if (out.size() < kDescribedWorkflows) {
      try {
        prov::WorkflowStatus s = prov::workflow_status(*store, id);
        description = s.name + ": " + s.status;
      } catch (const prov::Error&) {
        description = "unreadable";
      }
    }
    out.push_back(item(id, std::move(description)));
  }
  return out;
}

std::vector<DynamicSuggestion> provider_names(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  prov::ProviderCatalog catalog = prov::ProviderCatalog::discover(cfg.merged, cfg.workspace);
  std::vector<DynamicSuggestion> out;
  for (const auto& p : catalog.all())
    if (p.problem.empty()) out.push_back(item(p.name, p.kind + (p.name == catalog.default_name() ? ", default" : "")));
  return out;
}

std::vector<DynamicSuggestion> server_ids(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  prov::ProviderCatalog catalog = prov::ProviderCatalog::discover(cfg.merged, cfg.workspace);
  std::string name = catalog.default_name();
  if (const Value* p = call.flag_value("provider"); p && p->is(Value::Type::String)) name = p->as_string();
  std::vector<DynamicSuggestion> out;
  const prov::ProviderInfo* info = nullptr;
  for (const auto& p : catalog.all())
    if (p.name == name && p.problem.empty()) info = &p;
  if (!info) return out;
  try {
    if (info->kind == "builtin") {
      // The local provider lists its records on disk and checks their processes: no process starts.
      const auto store = existing_store(cfg);
      if (!store) return out;
      prov::ProviderContext ctx;
      ctx.workspace = cfg.workspace;
      ctx.state_dir = store->local_path();
      for (const auto& s : prov::open_provider(*info, ctx, self_exe())->list())
        out.push_back(item(s.id, s.name + ": " + s.state));
    } else if (auto cached = plugin_cache().get(cache_key(cfg.workspace, name)); cached && cached->is_list()) {
      for (const auto& s : std::get<DatumList>(cached->v)) {
        const Datum* id = s.find("id");
        const Datum* label = s.find("label");
        if (id && id->is_string()) out.push_back(item(id->str(), label && label->is_string() ? label->str() : ""));
      }
    }
  } catch (const prov::Error&) {
    // A provider that cannot be read offers nothing.
  }
  return out;
}

std::vector<DynamicSuggestion> extension_names(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::vector<DynamicSuggestion> out;
  for (const auto& e : prov::workspace_extensions(cfg.merged, cfg.workspace))
    out.push_back(item(e.name, e.version + " " + e.type +
                                   (e.usable() ? ""
                                    : e.valid  ? ", not compatible"
                                               : ", invalid")));
  return out;
}

void remember_servers(const std::string& workspace, const std::string& provider,
                      const std::vector<prov::Server>& servers) {
  DatumList list;
  for (const auto& s : servers)
    list.push_back(DatumRecord{{"id", Datum(s.id)}, {"label", Datum(s.name + ": " + s.state)}});
  plugin_cache().put(cache_key(workspace, provider), Datum(std::move(list)));
}

std::vector<DynamicSuggestion> config_keys(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  const auto patterns = prov::secret_patterns(cfg.merged);
  std::vector<DynamicSuggestion> out;
  std::set<std::string> tables;
  for (const auto& leaf : cfg.leaves) {
    prov::KeyPath path = prov::parse_key(leaf.key).value_or(prov::KeyPath{leaf.key});
    // Every table above a leaf comes before its first leaf.
    for (size_t n = 1; n < path.size(); ++n) {
      std::string table = prov::render_key(prov::KeyPath(path.begin(), path.begin() + static_cast<long>(n)));
      if (tables.insert(table).second) out.push_back(item(table, "table"));
    }
    out.push_back(item(leaf.key, short_text(prov::redact(leaf.value, patterns, path)) + " (" + leaf.layer + ")"));
  }
  return out;
}

std::vector<DynamicSuggestion> environments(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cfg.workspace, ec)) {
    const std::string file = entry.path().filename().string();
    const std::string prefix = "config.", suffix = ".toml";
    if (file.size() <= prefix.size() + suffix.size() || !file.starts_with(prefix) || !file.ends_with(suffix)) continue;
    std::string env = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    if (env != "defaults" && env != "user") names.insert(env);
  }
  std::vector<DynamicSuggestion> out;
  for (const auto& env : names) out.push_back(item(env, "config." + env + ".toml"));
  return out;
}

std::vector<DynamicSuggestion> workflow_files(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  std::vector<DynamicSuggestion> out;
  for (const auto& [name, file] : workspace_workflows(cfg)) out.push_back(item(name, file));
  std::vector<DynamicSuggestion> here;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(engine.get_current_dir(), ec)) {
    const fs::path& p = entry.path();
    const std::string file = p.filename().string();
    if (entry.is_directory(ec)) {
      DynamicSuggestion d = item(file + "/", "");
      d.append_whitespace = false;
      here.push_back(std::move(d));
    } else if (p.extension() == ".toml" || p.extension() == ".json") {
      here.push_back(item(file, ""));
    }
  }
  std::sort(here.begin(), here.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
  out.insert(out.end(), here.begin(), here.end());
  return out;
}

Suggestions complete_workflow_arg(EngineInterface& engine, const GetCompletionInfo& info) {
  if (asks_positional(info, 0)) return workflow_files(engine, info.call);
  return complete_shared_flags(engine, info);
}

std::vector<DynamicSuggestion> fixed(std::vector<std::pair<std::string, std::string>> values) {
  std::vector<DynamicSuggestion> out;
  for (auto& [value, description] : values) out.push_back(item(std::move(value), std::move(description)));
  return out;
}

bool asks_positional(const GetCompletionInfo& info, size_t index) {
  return info.arg_type.kind == GetCompletionArgType::Kind::Positional && info.arg_type.index == index;
}

bool asks_flag(const GetCompletionInfo& info, std::string_view name) {
  return info.arg_type.kind == GetCompletionArgType::Kind::Flag && info.arg_type.flag == name;
}

Suggestions complete_shared_flags(EngineInterface& engine, const GetCompletionInfo& info) {
  if (asks_flag(info, "env")) return environments(engine, info.call);
  if (asks_flag(info, "provider")) return provider_names(engine, info.call);
  return std::nullopt;
}

}  // namespace prov::plugin
