#pragma once
/// Providers written as Nu modules: `<dir>/nulib/provider.nu` exporting the seed's interface
/// (list-servers, create-server, get-server, delete-server, optionally test-connectivity; see
/// nu/provider_template.nu). Calls go to the module's warm worker (nu_worker.hpp).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/providers/nu_worker.hpp"
#include "core/providers/provider.hpp"

namespace prov {

/// How long a Nu-module provider may take to answer when its config sets no `timeout`.
inline constexpr Duration kNuProviderDefaultTimeout{30'000'000'000};

/// A provider backed by a Nu module. The module sees `$env.PROVISIONING_PROVIDER` =
/// {name, config, workspace, state_dir} during every call, with the workspace as its current
/// directory; `config` is ctx.config (`[providers.<name>]`).
class NuProvider : public Provider {
 public:
  /// `module_dir` holds nulib/provider.nu (e.g. <workspace>/providers/<name>). Starts nothing:
  /// the worker (shared by every NuProvider of the same module and Nu binary in this process)
  /// starts on the first call. Reads `timeout` from ctx.config: a duration, a string such as
  /// "5s", or a number of seconds; throws ConfigError `provisioning::config::bad_value` for
  /// anything else.
  NuProvider(std::string name, std::string module_dir, ProviderContext ctx);

  const std::string& name() const override { return name_; }
  /// list-servers: a list of Server records (a single record counts as a list of one).
  std::vector<Server> list() override;
  /// create-server with the spec as a record: the new Server record.
  Server create(const ServerSpec& spec) override;
  /// get-server: the Server record; nothing means provisioning::provider::not_found.
  Server get(const std::string& id) override;
  /// get-server, then delete-server; returns what delete-server returned when it is a record,
  /// else what get-server did, with state `deleted`.
  Server remove(const std::string& id) override;
  /// test-connectivity (a bool or {ok, message}); without one in the module, list-servers
  /// answering counts as reachable. Never throws for a provider that fails: ok = false.
  Connectivity test_connectivity() override;
  /// What the module's `spec-fields` returns (a list of field names); none when it exports
  /// no `spec-fields`. Asked once per object.
  std::vector<std::string> spec_fields() override;
  /// `<state_dir>/servers/<name>.lock`.
  std::string identity_lock() const override;

  /// How long each call may take.
  Duration timeout() const { return timeout_; }
  /// The worker the calls go to.
  const std::shared_ptr<NuWorker>& worker() const { return worker_; }

 private:
  Datum call(const char* method, Datum args);
  Server to_server(const Datum& value, const char* method) const;

  std::string name_;
  std::string module_dir_;
  ProviderContext ctx_;
  Duration timeout_ = kNuProviderDefaultTimeout;
  Datum context_;  ///< {name, config, workspace, state_dir}: the module's $env.PROVISIONING_PROVIDER
  std::shared_ptr<NuWorker> worker_;
  std::optional<std::vector<std::string>> spec_fields_;  ///< once asked
};

}  // namespace prov
