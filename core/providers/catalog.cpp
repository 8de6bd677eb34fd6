#include "core/providers/catalog.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/providers/local_provider.hpp"
#include "core/providers/nu_provider.hpp"
#include "core/support/duration.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace fs = std::filesystem;

namespace {

std::string path_setting(const Datum& config, const char* key, const std::string& fallback) {
  if (const Datum* paths = config.find("paths"))
    if (const Datum* p = paths->find(key); p && p->is_string() && !p->str().empty()) return p->str();
  return fallback;
}

Datum provider_config(const Datum& config, const std::string& name) {
  if (const Datum* ps = config.find("providers"))
    if (const Datum* p = ps->find(name); p && p->is_record()) return *p;
  return Datum();
}

}  // namespace

namespace {
std::string join_problems(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}
}  // namespace

ProviderCatalog ProviderCatalog::discover(const Datum& config, const std::string& workspace) {
  ProviderCatalog c;
  c.default_ = "local";
  if (const Datum* ps = config.find("providers"))
    if (const Datum* d = ps->find("default"); d && d->is_string() && !d->str().empty()) c.default_ = d->str();

  auto add = [&](ProviderInfo info) {
    for (const auto& other : c.providers_)
      if (other.name == info.name && other.problem.empty()) {
        info.problem = "the name is taken by the " + other.kind + " provider" +
                       (other.path.empty() ? std::string() : " at " + other.path);
        break;
      }
    info.config = provider_config(config, info.name);
    c.providers_.push_back(std::move(info));
  };

  add({"local", "builtin", "", {}, ""});

  std::error_code ec;
  const std::string dir = path_setting(config, "providers", workspace + "/providers");
  std::vector<fs::path> modules;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (fs::is_regular_file(entry.path() / "nulib" / "provider.nu", ec)) modules.push_back(entry.path());
  std::sort(modules.begin(), modules.end());
  for (const auto& m : modules)
    add({m.filename().string(), "nu", (m / "nulib" / "provider.nu").string(), {}, ""});

  for (const Extension& e : workspace_extensions(config, workspace))
    if (e.type == "provider") {
      if (e.usable()) add({e.name, "extension", e.entry_point("provider"), {}, ""});
      else c.unusable_extensions_.push_back({e.name, "extension", e.path, {}, join_problems(e.problems)});
    }
  return c;
}

const ProviderInfo& ProviderCatalog::require(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& p : providers_) {
    if (p.name == name && p.problem.empty()) return p;
    if (p.problem.empty()) names.push_back(p.name);
  }
  for (const auto& p : providers_)
    if (p.name == name)
      throw ProviderError("provisioning::provider::unknown",
                          "provider `" + name + "` (" + p.kind + ", " + p.path + ") cannot be used: " + p.problem,
                          "rename one of them; `prov provider list` shows every provider");
  for (const auto& p : unusable_extensions_)
    if (p.name == name)
      throw ProviderError("provisioning::extension::invalid",
                          "provider extension `" + name + "` (" + p.path + ") cannot be used: " + p.problem,
                          "fix its extension.toml; `prov extension get " + name + "` lists its problems");
  auto near = nearest_names(name, names);
  throw ProviderError("provisioning::provider::unknown", "no provider called `" + name + "` in this workspace",
                      near.empty() ? "known providers: " + join_alternatives(names) +
                                         " (`prov provider list` shows them)"
                                   : "did you mean " + join_alternatives(near) + "?");
}

std::unique_ptr<Provider> open_provider(const ProviderInfo& info, ProviderContext ctx,
                                        const std::string& supervisor_exe) {
  ctx.config = info.config;
  if (info.kind == "builtin") return std::make_unique<LocalProvider>(ctx, supervisor_exe);
  // info.path is <dir>/nulib/provider.nu; the provider is <dir>.
  return std::make_unique<NuProvider>(info.name, fs::path(info.path).parent_path().parent_path().string(), ctx);
}

Duration provider_cache_ttl(const Datum& config) {
  if (const Datum* ps = config.find("providers"))
    if (const Datum* t = ps->find("cache_ttl")) {
      std::string why;
      if (auto ttl = to_duration(*t, why)) return *ttl;
    }
  return Duration{60'000'000'000};
}

Connectivity provider_availability(const ProviderInfo& info, const ProviderContext& ctx,
                                   const std::string& supervisor_exe, TtlCache& cache, const Datum& config) {
  if (!info.problem.empty()) return {false, info.problem, {}};
  if (info.kind == "builtin") return {true, "built in", {}};
  if (::access(info.path.c_str(), R_OK) != 0) return {false, info.path + " cannot be read", {}};
  const std::string key = "provider.available:" + info.name + ":" + info.path;
  Datum answer = cache.get_or_compute(
      key,
      [&] {
        Connectivity c;
        try {
          c = open_provider(info, ctx, supervisor_exe)->test_connectivity();
        } catch (const Error& e) {
          c = {false, e.what(), {}};
        }
        return Datum(DatumRecord{{"ok", Datum(c.ok)}, {"message", Datum(c.message)}, {"duration", Datum(c.duration)}});
      },
      provider_cache_ttl(config));
  Connectivity c;
  c.ok = std::get<bool>(answer.find("ok")->v);
  c.message = answer.find("message")->str();
  c.duration = std::get<Duration>(answer.find("duration")->v);
  return c;
}

}  // namespace prov
