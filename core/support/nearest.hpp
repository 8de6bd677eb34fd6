#pragma once
/// "Did you mean …?": how far apart two names are, and which known names are near a wrong one.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace prov {

/// Edits (insert, delete, substitute, swap two adjacent characters) that turn `a` into `b`.
size_t edit_distance(std::string_view a, std::string_view b);

/// Up to `limit` of `candidates` close enough to `wrong` to be what the user meant, nearest
/// first (ties keep the candidates' order). Close enough: at most a quarter of the longer of
/// the two names differs, and one edit is always allowed.
std::vector<std::string> nearest_names(std::string_view wrong,
                                       const std::vector<std::string>& candidates,
                                       size_t limit = 3);

/// "a", "a or b", "a, b or c": names joined for a help line.
std::string join_alternatives(const std::vector<std::string>& names);

}  // namespace prov
