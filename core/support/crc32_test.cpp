#include "core/support/crc32.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace prov;

TEST_CASE("crc32 matches the IEEE check values", "[crc32]") {
  CHECK(crc32("") == 0u);
  CHECK(crc32("123456789") == 0xcbf43926u);
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414fa339u);
  CHECK(crc32(std::string(1, '\0')) == 0xd202ef8du);
}

TEST_CASE("crc32 continues across pieces and sees every flipped bit", "[crc32]") {
  const std::string text = "{\"type\":\"operation_succeeded\",\"operation\":\"web\"}";
  CHECK(crc32(text.substr(10), crc32(text.substr(0, 10))) == crc32(text));
  const uint32_t good = crc32(text);
  for (size_t i = 0; i < text.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = text;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      CHECK(crc32(bad) != good);
    }
}
