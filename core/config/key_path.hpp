#pragma once
/// Addressing values inside a configuration: `providers.local.timeout`, `servers.0.name`.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// The members of a path from the root: record keys, or list indexes written as digits.
using KeyPath = std::vector<std::string>;

/// Dotted text for a path; members that are empty or hold '.', '"', '\\' or whitespace are
/// double-quoted so that parse_key reads the same path back.
std::string render_key(const KeyPath& path);

/// Reads dotted text (`a."b.c".d`) into a path; nullopt when it is empty or malformed (empty
/// member, unterminated quote).
std::optional<KeyPath> parse_key(std::string_view text);

/// How far a path reaches into a value.
struct PathLookup {
  const Datum* value = nullptr;  ///< the value at the path, or the deepest one on the way
  size_t depth = 0;              ///< members matched; == path.size() when found
  bool found(const KeyPath& path) const { return depth == path.size(); }
};

/// Follows `path` from `root`: record members by key, list members by index.
PathLookup lookup_path(const Datum& root, const KeyPath& path);

/// Up to `limit` existing keys that whoever wrote the missing `path` probably meant: members
/// named like the first member that does not exist, followed by the rest of `path` where that
/// exists too ("provders.local" → "providers.local"). Empty when nothing is near.
std::vector<std::string> nearest_keys(const Datum& root, const KeyPath& path, size_t limit = 3);

}  // namespace prov
