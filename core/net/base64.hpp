#pragma once
/// Base64 (RFC 4648, standard alphabet, with padding): how etcd's JSON gateway carries keys and
/// values, which are bytes.

#include <optional>
#include <string>
#include <string_view>

namespace prov {

/// `bytes` in base64.
std::string base64_encode(std::string_view bytes);

/// The bytes of `text`; nullopt when it is not base64 (a character outside the alphabet, a
/// length that is not a multiple of 4, padding anywhere but at the end, or non-zero bits where
/// the padding says there are none).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace prov
