#pragma once
/// Core data <-> Nu values. Core dates and durations become Nu dates and durations; Nu values
/// the core cannot hold (closures, binary, ranges, cell paths, custom values) are refused with
/// a labeled error at the value.

#include "core/support/datum.hpp"
#include "plugin/protocol/value.hpp"

namespace prov::plugin {

/// Every value gets `span`.
Value to_value(const Datum& d, Span span);
/// Throws LabeledErrorException (code provisioning::input::unsupported_type) naming `what`.
Datum to_datum(const Value& v, const std::string& what);

}  // namespace prov::plugin
