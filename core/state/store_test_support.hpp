#pragma once
/// Helpers shared by the tests of the stores (not part of provcore's interface).

#include <functional>
#include <string>

#include "core/events/event.hpp"
#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov::testing {

/// A journal header naming workflow `id`.
inline Datum header_for(const std::string& id) { return Datum(DatumRecord{{"workflow_id", Datum(id)}}); }

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
