#include "plugin/commands/provider_session.hpp"

#include <atomic>

#include "core/providers/nu_worker.hpp"
#include "core/support/error.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

Flag provider_flag() {
  return {"provider", 'p', shape::string(), "The provider to ask (default: providers.default of the configuration)",
          false};
}

prov::TtlCache& plugin_cache() {
  static prov::TtlCache cache(prov::Duration{60'000'000'000});
  return cache;
}

namespace {
/// providers.cache_ttl of the last workspace a provider session opened, in nanoseconds.
std::atomic<int64_t> g_warm_ttl{60'000'000'000};
}  // namespace

std::optional<std::chrono::steady_clock::time_point> provider_state_until() {
  std::optional<std::chrono::steady_clock::time_point> until = plugin_cache().live_until();
  if (auto used = prov::NuWorkerPool::shared().last_used()) {
    const auto warm = *used + std::chrono::nanoseconds(g_warm_ttl.load());
    if (!until || warm > *until) until = warm;
  }
  return until;
}

ProviderSession open_provider_session(EngineInterface& engine, const EvaluatedCall& call) {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  g_warm_ttl = prov::provider_cache_ttl(cfg.merged).nanos;
  // Providers read their tables, their paths and the secret patterns.
  for (const char* section : {"providers", "paths", "secrets"}) cfg.require({section});
  std::string state_dir = open_store(cfg)->local_path();
  prov::ProviderCatalog catalog = prov::ProviderCatalog::discover(cfg.merged, cfg.workspace);
  prov::ProviderContext ctx;
  ctx.workspace = cfg.workspace;
  ctx.state_dir = state_dir;
  ctx.env_source = [&engine] { return std::optional<prov::Environment>(engine_environment(engine)); };
  ctx.nu_path = hosting_nu(cfg);
  return {std::move(cfg), std::move(state_dir), std::move(catalog), std::move(ctx), self_exe()};
}

std::string ProviderSession::provider_name(const EvaluatedCall& call) const {
  if (const Value* p = call.flag_value("provider")) {
    if (!p->is(Value::Type::String))
      throw labeled("--provider takes a provider's name", "expected a string, got " + p->type_name(), p->span,
                    "provisioning::input::wrong_type");
    return p->as_string();
  }
  return catalog.default_name();
}

std::unique_ptr<prov::Provider> ProviderSession::open(const std::string& name) const {
  return prov::open_provider(catalog.require(name), context, supervisor_exe);
}

std::unique_ptr<prov::Provider> ProviderSession::open(const EvaluatedCall& call) const {
  const std::string name = provider_name(call);
  try {
    return open(name);
  } catch (prov::Error& e) {
    if (e.code() == "provisioning::provider::unknown")
      e.blamed_on(call.flag_value("provider") ? prov::Blame::flag("provider") : prov::Blame{});
    throw;
  }
}

}  // namespace prov::plugin
