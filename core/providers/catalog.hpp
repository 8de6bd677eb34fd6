#pragma once
/// Which providers a workspace has: the built-in `local`, Nu-module providers at
/// `<paths.providers>/<name>/nulib/provider.nu`, and usable extensions of type provider. Finding
/// them reads folders only; opening one (open_provider) makes the object that talks to it.

#include <memory>
#include <string>
#include <vector>

#include "core/extensions/extension.hpp"
#include "core/providers/provider.hpp"
#include "core/support/ttl_cache.hpp"

namespace prov {

/// One provider as the workspace declares it.
struct ProviderInfo {
  std::string name;
  std::string kind;        ///< builtin, nu or extension
  std::string path;        ///< the module file (provider.nu); "" for builtin
  Datum config;            ///< `[providers.<name>]` of the merged configuration, or null
  std::string problem;     ///< why it cannot be used (a name taken by another); "" when none
};

/// The providers of one workspace, in order: builtin, workspace modules (by name), extensions.
class ProviderCatalog {
 public:
  /// Looks at `paths.providers` (default `<workspace>/providers`) and `paths.extensions`
  /// (default `<workspace>/extensions`) of `config`. A second provider with a name already
  /// taken is listed with a problem and cannot be opened.
  static ProviderCatalog discover(const Datum& config, const std::string& workspace);

  const std::vector<ProviderInfo>& all() const { return providers_; }
  /// The usable provider called `name`. Throws ProviderError `provisioning::provider::unknown`
  /// naming the known ones (nearest first) or saying why it cannot be used;
  /// `provisioning::extension::invalid` naming the problems of a provider extension that is
  /// invalid or incompatible.
  const ProviderInfo& require(const std::string& name) const;
  /// `providers.default` of the configuration, else "local".
  const std::string& default_name() const { return default_; }

 private:
  std::vector<ProviderInfo> providers_;
  /// Provider extensions that are invalid or incompatible: name, folder, problems joined.
  std::vector<ProviderInfo> unusable_extensions_;
  std::string default_;
};

/// Makes the Provider for `info`. `ctx.config` is set from info.config. `supervisor_exe` is
/// the binary that supervises `local` servers (this plugin's own).
std::unique_ptr<Provider> open_provider(const ProviderInfo& info, ProviderContext ctx,
                                        const std::string& supervisor_exe);

/// `providers.cache_ttl` of `config` (a duration; 60s when absent or not a duration): how long
/// provider answers are cached, and how long an unused provider worker is worth keeping warm.
Duration provider_cache_ttl(const Datum& config);

/// Whether `info` can be used now: local always; a module when its file is readable and its
/// test_connectivity answers ok. The answer is kept in `cache` for `providers.cache_ttl` (a
/// duration; default 60s), under a key naming the provider and its path.
Connectivity provider_availability(const ProviderInfo& info, const ProviderContext& ctx,
                                   const std::string& supervisor_exe, TtlCache& cache,
                                   const Datum& config);

}  // namespace prov
