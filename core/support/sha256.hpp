#pragma once
/// SHA-256 (FIPS 180-4) of bytes, as lowercase hex: what a file.write result reports of what it wrote.

#include <string>
#include <string_view>

namespace prov {

/// The SHA-256 digest of `data`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace prov
