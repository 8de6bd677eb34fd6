#pragma once
/// TOML documents as Datum records, keeping the key order the author wrote.
///
/// integers → int, floats → float, strings, booleans, arrays → list, tables → record,
/// offset date-times → DateTime with their offset, local date-times and dates → DateTime in
/// UTC ("1979-05-27" → "1979-05-27T00:00:00+00:00"), local times → string ("07:32:00").

#include <optional>
#include <string>
#include <string_view>

#include "core/support/datum.hpp"

namespace prov {

/// How deep tables and arrays may nest in a TOML document, dotted keys included.
inline constexpr size_t kMaxTomlDepth = 256;

/// Throws ConfigError `provisioning::config::parse`, positioned, for TOML text that toml++ must
/// not be given: nested deeper than kMaxTomlDepth, or with a non-ASCII character outside strings
/// and comments (TOML allows none; toml++ 3.3 reaches undefined behaviour on some).
void check_toml_text(std::string_view text, const std::string& path);

/// Parses TOML text into a record. `path` names the document in errors. Throws ConfigError
/// `provisioning::config::parse` positioned at the fault, also when the document nests deeper
/// than kMaxTomlDepth.
Datum parse_toml(std::string_view text, const std::string& path);

/// Reads and parses a TOML file; nullopt when there is no such file. Throws ConfigError
/// `provisioning::config::read` when it exists but cannot be read, or as parse_toml.
std::optional<Datum> read_toml_file(const std::string& path);

}  // namespace prov
