#pragma once
/// UTF-8: whether text is well-formed, and text made so. Nushell refuses a string that is not
/// UTF-8 (the whole answer it came in fails to decode), so whatever the plugin writes is made
/// valid on the way out; bytes kept as they are go as binary or as datum_json's tagged bytes.

#include <string>
#include <string_view>

namespace prov {

/// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
/// beyond U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD; `s` itself
/// when it is well-formed.
std::string to_valid_utf8(std::string s);

}  // namespace prov
