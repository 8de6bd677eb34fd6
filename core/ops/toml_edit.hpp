#pragma once
/// Editing one key of a TOML document people wrote: the key's value text is replaced, or one
/// line is added, and every other byte (comments, order, quoting, blank lines) stays as it was.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/key_path.hpp"

namespace prov {

/// The result of an edit.
struct TomlEdit {
  std::string text;                     ///< the whole new document
  std::optional<std::string> previous;  ///< the value's exact old text, when the key was there
  std::string inserted;                 ///< the text added when the key was not there
};

/// Sets `key` to `value_text` (one TOML value, as render_inline_toml writes it) in the document
/// `text`: an existing value's text is replaced; a missing key is added as a line after the
/// nearest statement of its table (a dotted key relative to its section), or under a new
/// `[table]` at the end. Throws ConfigError `provisioning::config::cannot_edit` naming `file`
/// when the key is inside an inline table, an array or an array of tables, holds a table, or
/// the edit would not give exactly the document with that key set (checked by parsing both);
/// `provisioning::config::parse` when `text` is not TOML.
TomlEdit toml_set(std::string_view text, const KeyPath& key, const std::string& value_text, const std::string& file);

/// Undoes a toml_set that added `key`: removes the `inserted_size` bytes that end with the
/// key's line when `is_inserted` says they are what toml_set added (a new table header with
/// it), else only the key's line. The document unchanged when the key is not there.
std::string toml_remove(std::string_view text, const KeyPath& key, size_t inserted_size,
                        const std::function<bool(std::string_view)>& is_inserted, const std::string& file);

}  // namespace prov
