#include "core/extensions/semver.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
SemVer v(const char* text) {
  std::string why;
  auto s = SemVer::parse(text, why);
  INFO(text << ": " << why);
  REQUIRE(s);
  return *s;
}
bool in(const char* range, const char* version) {
  std::string why;
  auto r = VersionRange::parse(range, why);
  INFO(range << ": " << why);
  REQUIRE(r);
  return r->matches(v(version));
}
std::string range_error(const char* range) {
  std::string why;
  auto r = VersionRange::parse(range, why);
  return r ? std::string("(parsed)") : why;
}
}  // namespace

TEST_CASE("semver: parse and print", "[semver]") {
  CHECK(v("1.2.3").to_string() == "1.2.3");
  CHECK(v("v0.1.0-rc.1+build.7").to_string() == "0.1.0-rc.1");
  std::string why;
  CHECK_FALSE(SemVer::parse("1.2", why));
  CHECK(why.find("not a full version") != std::string::npos);
  CHECK_FALSE(SemVer::parse("1.02.3", why));
  CHECK_FALSE(SemVer::parse("1.2.3-", why));
  CHECK_FALSE(SemVer::parse("one.two.three", why));
  CHECK_FALSE(SemVer::parse("1.2.3-01", why));
}

TEST_CASE("semver: precedence follows semver.org", "[semver]") {
  const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                           "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    INFO(ordered[i] << " < " << ordered[i + 1]);
    CHECK(compare(v(ordered[i]), v(ordered[i + 1])) < 0);
    CHECK(compare(v(ordered[i + 1]), v(ordered[i])) > 0);
  }
  CHECK(compare(v("1.2.3+a"), v("1.2.3+b")) == 0);
}

TEST_CASE("semver: ranges", "[semver]") {
  CHECK(in(">=0.1.0, <0.3.0", "0.1.0"));
  CHECK(in(">=0.1.0, <0.3.0", "0.2.9"));
  CHECK_FALSE(in(">=0.1.0, <0.3.0", "0.3.0"));
  CHECK(in(">= 0.1 < 1", "0.9.9"));
  CHECK(in("^0.1", "0.1.7"));
  CHECK_FALSE(in("^0.1", "0.2.0"));
  CHECK(in("^1.2.3", "1.9.0"));
  CHECK_FALSE(in("^1.2.3", "2.0.0"));
  CHECK_FALSE(in("^0.0.3", "0.0.4"));
  CHECK(in("~1.2.3", "1.2.9"));
  CHECK_FALSE(in("~1.2.3", "1.3.0"));
  CHECK(in("1.x", "1.5.0"));
  CHECK_FALSE(in("1.x", "2.0.0"));
  CHECK(in("*", "7.0.0"));
  CHECK(in("=0.1.0", "0.1.0"));
  CHECK_FALSE(in("0.1.0", "0.1.1"));
  CHECK(in("<0.1.0 || >=2", "2.1.0"));
  CHECK(in("<0.1.0 || >=2", "0.0.9"));
  CHECK_FALSE(in("<0.1.0 || >=2", "1.0.0"));
  CHECK(in("<=1.2", "1.2.9"));
  CHECK_FALSE(in(">1.2", "1.2.9"));
  CHECK(in(">1.2", "1.3.0"));
}

TEST_CASE("semver: pre-releases match only ranges that name one of the same version", "[semver]") {
  CHECK_FALSE(in(">=0.1.0", "0.2.0-rc.1"));
  CHECK(in(">=0.2.0-rc.0", "0.2.0-rc.1"));
  CHECK_FALSE(in(">=0.2.0-rc.0", "0.3.0-rc.1"));
  CHECK_FALSE(in("<1.0.0", "1.0.0-rc.1"));
}

TEST_CASE("semver: bad ranges say what is wrong", "[semver]") {
  CHECK(range_error("") == "the range is empty");
  CHECK(range_error(">=") == "`>=` has no version after the operator");
  CHECK(range_error("!1.0.0").find("not a version") != std::string::npos);
  CHECK(range_error("=>1.0.0").find("unknown operator `=>`") != std::string::npos);
  CHECK(range_error("1.2.3.4").find("more than three numbers") != std::string::npos);
  CHECK(range_error("1 ||").find("empty alternative") != std::string::npos);
}
