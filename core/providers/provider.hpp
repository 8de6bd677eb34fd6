#pragma once
/// The provider interface: what creates, lists, inspects and deletes servers. Every provider
/// (the built-in `local`, Nu-module providers, extension providers) implements Provider and
/// passes the same contract suite (provider_contract_test.hpp). Providers speak ServerSpec and
/// Server values; converting them to and from records is here, converting records to Nu values
/// is the plugin's.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

/// When the `local` supervisor starts a server's process again after it ended: `restart` of a
/// ServerSpec, written `"on-failure"` (max 5, backoff 1s) or `{policy, max, backoff}`.
/// `policy` is `no`, `on-failure` (a non-zero exit status or a signal) or `always`; the n-th
/// restart waits backoff × 2^(n-1), at most 1 minute; after `max` restarts the server stays exited.
struct RestartPolicy {
  std::string policy = "no";
  int64_t max = 5;
  Duration backoff{1'000'000'000};

  /// Whether the supervisor should start again a process that ended with `exit_code` (128+n:
  /// killed by signal n) after `restarts` restarts.
  bool wants_restart(int64_t exit_code, int64_t restarts) const;
  /// The wait before restart number `n` (1-based).
  Duration delay(int64_t n) const;
  /// Reads `"on-failure"` or `{policy, max, backoff}`; throws ProviderError invalid_spec
  /// naming the field (`where`: where the spec came from).
  static RestartPolicy from_datum(const Datum& d, const std::string& where);
  /// {policy, max, backoff}
  Datum to_datum() const;
  bool operator==(const RestartPolicy&) const = default;
};

/// The fields every provider takes: name, plan, labels.
const std::vector<std::string>& common_spec_fields();

/// What to create. `name`, `plan` and `labels` are common to every provider; `command`,
/// `env`, `cwd`, `ports` and `restart` are the `local` provider's; anything else a record holds
/// is kept in `extra`, in order, for providers that understand it.
struct ServerSpec {
  std::string name;
  std::string plan;
  DatumRecord labels;
  std::vector<std::string> command;
  Environment env;
  std::string cwd;
  std::vector<int64_t> ports;
  std::optional<RestartPolicy> restart;
  DatumRecord extra;

  /// The fields set beyond name, plan and labels (local ones that are set, then extra's keys).
  std::vector<std::string> other_fields() const;

  /// Reads a ServerSpec record. Throws ProviderError `provisioning::provider::invalid_spec`
  /// naming the field (`name` is required, `labels`/`env` records, `command` a list of strings,
  /// `ports` a list of ints in 1..65535). `where` says where the record came from, for messages.
  static ServerSpec from_datum(const Datum& d, const std::string& where = "the server spec");
  /// The spec as a record: name, plan, labels, then the local fields that are set, then extra.
  Datum to_datum() const;
};

/// Server states.
namespace server_state {
inline constexpr const char* creating = "creating";
inline constexpr const char* running = "running";
inline constexpr const char* exited = "exited";
inline constexpr const char* deleted = "deleted";
inline constexpr const char* unknown = "unknown";
}  // namespace server_state

/// A server as a provider reports it: `id`, `name`, `provider`, `state`, `created`, and
/// the other fields (`fields`): `plan` and `labels` from every provider, then its own (for
/// `local`: command, env, cwd, ports, restart, pid, started, uptime, logs, exit_code, restarts;
/// whatever a Nu module returns). The spec fields a server reports are what create compares a
/// new spec with (server_identity.hpp).
struct Server {
  std::string id;
  std::string name;
  std::string provider;
  std::string state = server_state::unknown;
  DateTime created;
  DatumRecord fields;

  /// Reads a Server record (as a Nu module returns it). Throws ProviderError
  /// `provisioning::provider::bad_response` naming the field when `id` is missing or a field
  /// has the wrong type; `provider` is filled in when the record lacks it, `plan` (null) and
  /// `labels` ({}) too.
  static Server from_datum(const Datum& d, const std::string& provider);
  /// id, name, provider, state, created, then `fields` in order.
  Datum to_datum() const;
};

/// Whether a provider can be reached, and how long asking took.
struct Connectivity {
  bool ok = false;
  std::string message;
  Duration duration;
};

/// Everything a provider may need from its surroundings.
struct ProviderContext {
  std::string workspace;   ///< the workspace root
  std::string state_dir;   ///< the workspace's state directory (`.provisioning/` or paths.state)
  Datum config;            ///< `[providers.<name>]` of the merged configuration (a record or null)
  std::optional<Environment> env;  ///< environment for processes it starts (Nu's); nullopt: ours
  /// Where `env` comes from when it is unset and only fetched if a process must start (asking
  /// Nushell for its whole environment is costly); nullopt from it too means ours.
  std::function<std::optional<Environment>()> env_source;
  /// `env`, else what env_source gives, else nullopt.
  std::optional<Environment> environment() const { return env ? env : env_source ? env_source() : std::nullopt; }
  std::string nu_path = "nu";      ///< the Nu binary (the hosting one when known)
  CancelToken* cancel = nullptr;   ///< when it fires, waits end with provisioning::provider::cancelled
};

/// One provider. Methods throw ProviderError with a stable code on failure:
///   provisioning::provider::not_found      no server with that id
///   provisioning::provider::invalid_spec   the ServerSpec is unusable
///   provisioning::provider::failed         the provider itself reported an error (its message)
///   provisioning::provider::timeout        it did not answer within its timeout
///   provisioning::provider::bad_response   it answered with something that is not the contract
///   provisioning::provider::cancelled      the context's CancelToken fired
/// A provider object may be used from one thread at a time.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;
  virtual std::vector<Server> list() = 0;
  virtual Server create(const ServerSpec& spec) = 0;
  virtual Server get(const std::string& id) = 0;
  /// Removes the server and returns its last state with `state` = deleted.
  virtual Server remove(const std::string& id) = 0;
  virtual Connectivity test_connectivity() = 0;

  /// The spec fields it takes beyond name, plan and labels (`local`: command, env, cwd, ports,
  /// restart; a Nu module: what its `spec-fields` returns). A spec setting another field is
  /// refused (check_spec_fields, server_identity.hpp).
  virtual std::vector<std::string> spec_fields() = 0;
  /// A lock file that serializes creates of this provider across processes (create_server);
  /// "" when there is nowhere to keep one.
  virtual std::string identity_lock() const { return {}; }

  /// Stops the server's process and keeps the server (state exited); start() starts it again
  /// from its spec, restart() does both. Providers without processes of their own throw
  /// ProviderError `provisioning::provider::unsupported`; these defaults do.
  virtual Server stop(const std::string& id);
  virtual Server start(const std::string& id);
  virtual Server restart(const std::string& id);

  /// Where a server's output is: its log files, and the process that writes them (0: none
  /// now), which ends when the server ends for good. Default: unsupported.
  struct LogFiles {
    std::string stdout_path;
    std::string stderr_path;
    pid_t writer = 0;
    uint64_t writer_start = 0;
  };
  virtual LogFiles logs(const std::string& id);

  /// Whether a change of spec field `field` is made to an existing server in place (`prov infra`
  /// plans an update, set_labels makes it) rather than by replacing it (delete, then create).
  /// By default none: a provider that overrides set_labels says "labels" here.
  virtual bool changes_in_place(const std::string& field) const {
    (void)field;
    return false;
  }
  /// Replaces server `id`'s labels by `labels` (a record) in place; returns its record.
  /// Default: unsupported.
  virtual Server set_labels(const std::string& id, const Datum& labels);
};

}  // namespace prov
