#pragma once
/// Which store a workspace uses and how to reach it, from its configuration:
///
///   [state]
///   backend = "file"            # or "etcd"
///   [state.etcd]
///   endpoints = ["http://127.0.0.1:2379"]
///   prefix = "/provisioning/<workspace folder name>"
///   lease_ttl = "10s"
///   request_timeout = "5s"
///   user = "…"                  # with password: etcd authentication (secrets: redacted)
///   password = "…"
///   ca_file = "certs/ca.pem"    # https:// endpoints: the authorities to trust (default: the
///   cert_file = "…"             #   system's), and a client certificate with its key;
///   key_file = "…"              #   relative paths are the workspace's
#include <chrono>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/net/tls_session.hpp"

namespace prov {

/// How to reach the etcd store (see the keys above).
struct EtcdSettings {
  std::vector<std::string> endpoints;                 ///< "http://host:port" or "https://…", at least one
  std::string prefix;                                 ///< the workspace's key prefix
  std::chrono::seconds lease_ttl{10};                 ///< how long a silent holder keeps its claim
  std::chrono::milliseconds request_timeout{5000};    ///< each call to etcd
  std::string user;                                   ///< empty: no authentication
  std::string password;
  TlsOptions tls;                                     ///< absolute paths
};

struct StoreSettings {
  enum class Backend { file, etcd };
  Backend backend = Backend::file;
  std::string state_path;  ///< this host's state folder (absolute)
  std::string workspace;
  EtcdSettings etcd;       ///< for Backend::etcd
};

/// This host's state folder of `config`: `paths.state`, or `<workspace>/.provisioning`.
std::string state_folder(const Config& config);

/// The settings of `config` with its state folder at `state_path`. Throws ConfigError naming the
/// key and the file that set it: `provisioning::config::bad_value` for an unknown backend
/// (with the known ones), endpoints that are not a non-empty list of http:// or https:// URLs,
/// a prefix that does not start with '/', a lease_ttl under 2 s, a TLS file that does not
/// exist, a cert_file without its key_file or the other way round.
StoreSettings store_settings(const Config& config, const std::string& state_path);

}  // namespace prov
