#include "core/support/utf8.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("utf8: well-formed text is told from what is not", "[utf8]") {
  CHECK(is_valid_utf8("plain é ✓ 😀"));
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xe2\x9c"));          // cut short
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
}

TEST_CASE("utf8: each byte that is not part of a character becomes U+FFFD", "[utf8]") {
  CHECK(to_valid_utf8("plain é ✓") == "plain é ✓");
  CHECK(to_valid_utf8("a\xff\xfe"
                      "b") ==
        "a\uFFFD\uFFFD"
        "b");
  CHECK(to_valid_utf8("cut \xe2\x9c") == "cut \uFFFD\uFFFD");
  CHECK(to_valid_utf8("\xc0\xaf é") == "\uFFFD\uFFFD é");
  CHECK(is_valid_utf8(to_valid_utf8(std::string("\x00\x80\xbf\xf4\x90\x80\x80", 7))));
}
