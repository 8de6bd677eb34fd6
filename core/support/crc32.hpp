#pragma once
/// CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG): a checksum that frames durable
/// records so that a torn or corrupted one is detected.

#include <cstdint>
#include <string_view>

namespace prov {

/// The CRC-32 of `data`, continuing from `crc` (the result for the bytes before it, 0 at the
/// start): crc32("123456789") == 0xcbf43926.
uint32_t crc32(std::string_view data, uint32_t crc = 0);

}  // namespace prov
