#pragma once
/// The record of the HTTP service that serves a workspace's state folder: its folder
/// `<state>/serve/` holds `lock` (held by the running service: one per workspace), `service.json`
/// (where it listens, its pid) and `token` (0600). Read by `prov serve status|stop` and by a
/// second service, which refuses to start.
#include <cstdint>
#include <optional>
#include <string>

#include "core/support/datum.hpp"

namespace prov {

struct ServiceInstance {
  int64_t pid = 0;
  std::string url, listen, started;
  Datum record;  ///< service.json as written
};

/// The service folder of the state folder `state_path`.
std::string service_dir(const std::string& state_path);
/// The service running for `serve_dir` now (its lock held), when one is.
std::optional<ServiceInstance> running_service(const std::string& serve_dir);

}  // namespace prov
