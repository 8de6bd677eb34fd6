#include "core/support/placeholders.hpp"

#include <algorithm>

namespace prov {

SplitText split_placeholders(std::string_view text) {
  SplitText out;
  auto literal = [&](std::string_view s) {
    if (out.pieces.empty() || out.pieces.back().placeholder) out.pieces.push_back({false, {}});
    out.pieces.back().text += s;
  };
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "\\{{") == 0) {
      literal("{{");
      i += 3;
    } else if (text.compare(i, 2, "{{") == 0) {
      const size_t close = text.find("}}", i + 2);
      if (close == std::string_view::npos) {
        out.unterminated_at = i;
        return out;
      }
      std::string_view inside = text.substr(i + 2, close - i - 2);
      const size_t begin = inside.find_first_not_of(" \t");
      if (begin == std::string_view::npos) {
        out.empty_placeholder = true;
        return out;
      }
      inside = inside.substr(begin, inside.find_last_not_of(" \t") - begin + 1);
      out.pieces.push_back({true, std::string(inside)});
      i = close + 2;
    } else {
      const size_t next = std::min(text.find('{', i + 1), text.find('\\', i + 1));
      literal(text.substr(i, next == std::string_view::npos ? next : next - i));
      i = next == std::string_view::npos ? text.size() : next;
    }
  }
  return out;
}

}  // namespace prov
