#pragma once
/// The built-in `local` provider: a server is a local process started from the spec's `command`
/// argv, supervised by a detached `nu_plugin_provisioning --supervise` (local_supervisor.hpp)
/// so that it outlives the plugin. Its record and logs live in
/// `<state_dir>/servers/local/<id>/`; list and get reconcile the record with the OS.

#include <string>
#include <vector>

#include "core/providers/provider.hpp"

namespace prov {

class LocalProvider : public Provider {
 public:
  /// `supervisor_exe` runs `--supervise DIR` (the plugin passes readlink("/proc/self/exe")).
  /// Reads `ready_timeout` and `kill_grace` (durations, default 5s) from `context.config`;
  /// throws ConfigError `provisioning::config::bad_value` when one is not a duration.
  LocalProvider(ProviderContext context, std::string supervisor_exe);

  const std::string& name() const override { return name_; }
  /// Every server with a record, oldest first.
  std::vector<Server> list() override;
  /// Starts `spec.command` (required) with `spec.env` over the context's environment, in
  /// `spec.cwd` (relative to the workspace); returns once its pid is recorded and, for each of
  /// `spec.ports`, a process of the server's group listens on it (up to ready_timeout; another
  /// process listening there does not count). A port already taken is refused before anything
  /// starts (`provisioning::server::port_in_use`, naming it and its holder). A server that ends
  /// before it is ready is removed and reported as `failed` with its exit status and the tails
  /// of its logs.
  Server create(const ServerSpec& spec) override;
  /// The server with this id (or this name when only one server has it).
  Server get(const std::string& id) override;
  /// SIGTERM to the server's process group, SIGKILL after kill_grace; waits until it is gone,
  /// removes its folder, returns its last state with state `deleted`.
  Server remove(const std::string& id) override;
  /// Ok when the supervisor binary is executable.
  Connectivity test_connectivity() override;
  /// command, env, cwd, ports, restart.
  std::vector<std::string> spec_fields() override;
  /// `<state_dir>/servers/local.lock`.
  std::string identity_lock() const override;
  /// Asks the supervisor to stop the server (no restart follows); the server stays, exited.
  Server stop(const std::string& id) override;
  bool changes_in_place(const std::string& field) const override { return field == "labels"; }
  Server set_labels(const std::string& id, const Datum& labels) override;
  /// Starts a server that is not running again from its recorded spec, as create does (ports
  /// checked first, ready as create waits for it); a running one is returned as it is.
  Server start(const std::string& id) override;
  /// stop, then start.
  Server restart(const std::string& id) override;
  /// Its stdout.log and stderr.log; the writer is its supervisor while it lives.
  LogFiles logs(const std::string& id) override;

  /// `<state_dir>/servers/local`.
  const std::string& servers_dir() const { return servers_dir_; }

 private:
  /// The folder of the server `id` or uniquely named `id`; throws not_found.
  std::string resolve(const std::string& id) const;
  /// The server recorded in `dir`, reconciled with the OS.
  Server read(const std::string& dir) const;
  /// Stops the server of `dir` and its supervisor, removes the folder; its last state.
  Server stop_and_remove(const std::string& dir);
  /// Stops the server of `dir` through its supervisor (directly when it has none), keeps the folder.
  void stop_dir(const std::string& dir);
  /// Starts the supervisor of `dir` with the context's environment and the spec's env.
  void launch(const std::string& dir);
  /// Waits until the server of `dir` started and listens on its ports (see create); throws
  /// when it ends first or does not get ready in time.
  void await_ready(const std::string& dir);
  /// Throws ProviderError cancelled when the context's token fired.
  void check_cancel() const;

  std::string name_ = "local";
  ProviderContext ctx_;
  std::string exe_;
  std::string servers_dir_;
  Duration ready_timeout_{5'000'000'000};
  Duration kill_grace_{5'000'000'000};
};

}  // namespace prov
