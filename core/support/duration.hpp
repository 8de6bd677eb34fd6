#pragma once
/// Lengths of time as people write them: "1.5s", "500ms", "5m", "1m30s", and back.

#include <optional>
#include <string>
#include <string_view>

#include "core/support/datum.hpp"

namespace prov {

/// What a duration looks like, for help lines: the accepted forms and units.
extern const char* const kDurationForms;

/// Reads one or more number-and-unit parts, largest unit first ("1.5s", "1m30s", "250µs").
/// Units: ns, us/µs, ms, s/sec, m/min, h/hr, d/day, w/wk. Numbers are decimal, never signed;
/// fractions finer than a nanosecond are dropped. On failure returns nullopt and sets `why` to
/// what was wrong with the text (kDurationForms says what is accepted).
std::optional<Duration> parse_duration(std::string_view text, std::string& why);

/// A Duration datum as it is, or a string read by parse_duration. Anything else is refused with
/// `why` set; a bare int is refused because its unit would be a guess.
std::optional<Duration> to_duration(const Datum& value, std::string& why);

/// Short text for a duration that parse_duration reads back exactly: "1.5s", "500ms", "0s",
/// "1h30m", "2d3h0.25s". A negative one gets a leading '-' (which parse_duration refuses).
std::string format_duration(Duration d);

/// A measured length of time as people read it: rounded to the nearest millisecond.
Duration to_millis(Duration d);

}  // namespace prov
