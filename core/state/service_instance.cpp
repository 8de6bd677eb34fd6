#include "core/state/service_instance.hpp"

#include "core/state/lock.hpp"
#include "core/state/safe_dir.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

namespace prov {

std::string service_dir(const std::string& state_path) { return state_path + "/serve"; }

std::optional<ServiceInstance> running_service(const std::string& serve_dir) {
  if (!FileLock::is_held(serve_dir + "/lock")) return std::nullopt;
  ServiceInstance s;
  if (auto pid = FileLock::holder_pid(serve_dir + "/lock")) s.pid = *pid;
  try {
    if (auto text = SafeDir::open(serve_dir).read_file("service.json")) {
      s.record = decode_json(*text);
      auto str = [&](const char* k) {
        const Datum* d = s.record.find(k);
        return d && d->is_string() ? d->str() : std::string();
      };
      s.url = str("url");
      s.listen = str("listen");
      s.started = str("started");
    }
  } catch (const Error&) {
    // A service between taking its lock and writing its record: known by its pid alone.
  }
  return s;
}

}  // namespace prov
