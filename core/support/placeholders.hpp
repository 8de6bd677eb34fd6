#pragma once
/// The `{{…}}` syntax that configuration interpolation and workflow references share: text split
/// into literal pieces and placeholders. What a placeholder means is each caller's.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prov {

/// Literal text, or the inside of a {{…}} placeholder, trimmed of spaces and tabs.
struct TextPiece {
  bool placeholder = false;
  std::string text;
};

/// `text` in pieces (`\{{` stands for a literal `{{`), or why it cannot be split.
struct SplitText {
  std::vector<TextPiece> pieces;
  std::optional<size_t> unterminated_at;  ///< a `{{` there has no closing `}}`
  bool empty_placeholder = false;         ///< a `{{}}` holds nothing
  bool ok() const { return !unterminated_at && !empty_placeholder; }
};
SplitText split_placeholders(std::string_view text);

}  // namespace prov
