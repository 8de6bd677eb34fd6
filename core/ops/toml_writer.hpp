#pragma once
/// Writing TOML that people edit too: members stay in the order the author wrote them, and
/// Datum values become TOML nodes. Comments are not kept: toml++ does not read them.

#include <memory>
#include <string>
#include <toml++/toml.h>

#include "core/support/datum.hpp"

namespace prov {

/// TOML text of `table`: members in source order (members added since follow, by name);
/// plain values first, then tables as `[a.b]` sections and arrays of tables as `[[a]]`
/// sections; inline tables and arrays stay inline. toml::parse of the text gives `table` back.
std::string render_toml(const toml::table& table);

/// A key as TOML writes it: bare when it can be, else a basic string with escapes.
std::string toml_key_text(std::string_view key);

/// `value` as one inline TOML value (`"text"`, `5`, `[1, 2]`, `{ a = 1 }`); "" with `why` set
/// when TOML cannot hold it (as to_toml).
std::string render_inline_toml(const Datum& value, std::string& why);

/// `value` as a TOML node: records → tables, lists → arrays, dates → date-times, durations →
/// strings ("1.5s"). nullptr, with `why` set, when it holds something TOML cannot (null).
std::unique_ptr<toml::node> to_toml(const Datum& value, std::string& why);

}  // namespace prov
