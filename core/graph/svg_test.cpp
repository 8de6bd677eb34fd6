// SVG through Graphviz: a real layout when `dot` is installed, the named Debian package when
// it is not, and dot's own message when it rejects the text.

#include "core/graph/svg.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {
/// tools/setup.sh installs Graphviz, so the test machine has it.
std::string installed_dot() {
  const char* path = std::getenv("PATH");
  return find_dot(path ? path : "/usr/bin", "/");
}
}  // namespace

TEST_CASE("find_dot names the Debian package when dot is not on PATH", "[svg]") {
  TempDir empty("prov-svg");
  try {
    find_dot(empty.path(), "/");
    FAIL("expected an error");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::graph::graphviz_missing");
    CHECK(std::string(e.what()).find("dot") != std::string::npos);
    CHECK(e.help().find("apt-get install graphviz") != std::string::npos);
  }
}

TEST_CASE("find_dot takes the first executable dot on PATH", "[svg]") {
  TempDir d("prov-svg");
  std::string fake = d.write("bin/dot", "#!/bin/sh\n");
  ::chmod(fake.c_str(), 0700);
  d.mkdir("empty");
  CHECK(find_dot(d / "empty" + ":" + d / "bin" + ":/usr/bin", "/") == fake);
}

TEST_CASE("render_svg lays out a workflow with Graphviz", "[svg]") {
  std::string svg = render_svg("digraph w { a -> b; \"x;$(touch pwned)\" -> b; }", installed_dot());
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("x;$(touch pwned)") != std::string::npos);
  CHECK(::access("pwned", F_OK) != 0);
}

TEST_CASE("render_svg reports dot's own complaint", "[svg]") {
  try {
    render_svg("digraph { a -> ", installed_dot());
    FAIL("expected an error");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::graph::render");
    CHECK(std::string(e.what()).find("syntax error") != std::string::npos);
  }
}
