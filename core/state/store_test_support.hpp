#pragma once
/// Helpers shared by the tests of the stores (not part of provcore's interface).

#include <functional>
#include <string>

#include "core/events/event.hpp"
#include "core/state/store_settings.hpp"
#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov::testing {

/// A journal header naming workflow `id`.
inline Datum header_for(const std::string& id) { return Datum(DatumRecord{{"workflow_id", Datum(id)}}); }

/// The settings of an etcd store at `endpoints` under `prefix`: a 2 s lease, `timeout` a request.
inline EtcdSettings etcd_test_settings(std::vector<std::string> endpoints, std::string prefix,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
  EtcdSettings s;
  s.endpoints = std::move(endpoints);
  s.prefix = std::move(prefix);
  s.lease_ttl = std::chrono::seconds(2);
  s.request_timeout = timeout;
  return s;
}

/// An event of `type` for workflow `id`, now.
inline Event event(const std::string& id, const char* type) {
  Event e;
  e.time = now_utc();
  e.workflow_id = id;
  e.type = type;
  return e;
}

/// The code of the Error `f` throws; "" when it throws none.
inline std::string error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "";
}

}  // namespace prov::testing
