#pragma once
/// Keys of the configuration whose values have a type the files cannot say: lengths of time
/// written as text ("15m") become durations when the configuration is loaded.

#include <vector>

#include "core/config/interpolate.hpp"
#include "core/config/key_path.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// The keys that hold lengths of time; a member "*" matches any key (providers.*.timeout).
const std::vector<KeyPath>& duration_keys();

/// Turns the value of every duration key in `config` into a Duration: a string read as one
/// ("500ms"), a duration kept, and for a provider's `timeout` an int or float as seconds. A
/// value that is not one becomes null and is added to `failures` (code
/// `provisioning::config::bad_duration`, naming the key).
void type_known_keys(Datum& config, std::vector<InterpolationFailure>& failures);

}  // namespace prov
