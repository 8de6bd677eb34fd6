// The {{…}} syntax shared by configuration interpolation and workflow references.

#include "core/support/placeholders.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("split_placeholders: literals, trimmed placeholders, the \\{{ escape", "[placeholders]") {
  const SplitText s = split_placeholders("a {{ x.y }}b\\{{c}}{{z}}");
  REQUIRE(s.ok());
  REQUIRE(s.pieces.size() == 4);
  CHECK((!s.pieces[0].placeholder && s.pieces[0].text == "a "));
  CHECK((s.pieces[1].placeholder && s.pieces[1].text == "x.y"));
  CHECK((!s.pieces[2].placeholder && s.pieces[2].text == "b{{c}}"));
  CHECK((s.pieces[3].placeholder && s.pieces[3].text == "z"));
}

TEST_CASE("split_placeholders: unterminated and empty placeholders", "[placeholders]") {
  CHECK(split_placeholders("ab {{x").unterminated_at == 3);
  CHECK(split_placeholders("{{ }}").empty_placeholder);
  CHECK(split_placeholders("no braces").pieces.size() == 1);
}
