#include "core/net/base64.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\x00\xfe", 3)) == "/wD+");
}

TEST_CASE("base64 decodes what it encodes, every byte value", "[base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    CHECK(base64_decode(base64_encode(part)) == part);
  }
  CHECK(base64_decode("Zm9vYmE=") == "fooba");
}

TEST_CASE("base64 refuses what is not base64", "[base64]") {
  CHECK_FALSE(base64_decode("Zm9"));        // length
  CHECK_FALSE(base64_decode("Zm9v!mFy"));   // alphabet
  CHECK_FALSE(base64_decode("Zg==Zm9v"));   // padding inside
  CHECK_FALSE(base64_decode("Zh=="));       // bits under the padding
  CHECK_FALSE(base64_decode("Zm9="));       // bits under the padding
  CHECK_FALSE(base64_decode("===="));
}
