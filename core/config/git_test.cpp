#include "core/config/git.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

bool have_git() {
  try {
    return run_captured({"git", "--version"}).exit_code == 0;
  } catch (const ResourceError&) {
    return false;
  }
}

}  // namespace

TEST_CASE("current_git_branch names the checked-out branch", "[config][git]") {
  if (!have_git()) {
    FAIL("git is not installed (tools/setup.sh installs it)");
  }
  TempDir dir("prov-git");
  REQUIRE(run_captured({"git", "init", "-q", dir.path()}).exit_code == 0);
  REQUIRE(run_captured({"git", "-C", dir.path(), "symbolic-ref", "HEAD",
                        "refs/heads/feature/config-loader"})
              .exit_code == 0);
  CHECK(current_git_branch(dir.path()) == "feature/config-loader");
  // From a subdirectory too.
  CHECK(current_git_branch(dir.mkdir("sub/dir")) == "feature/config-loader");
}

TEST_CASE("current_git_branch fails outside a repository", "[config][git]") {
  if (!have_git()) {
    FAIL("git is not installed (tools/setup.sh installs it)");
  }
  TempDir dir("prov-nogit");
  // Meaningful only when the temp directory is not itself inside a repository.
  REQUIRE(run_captured({"git", "-C", dir.path(), "rev-parse", "--git-dir"}).exit_code != 0);
  try {
    current_git_branch(dir.path());
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::git");
    const std::string msg = e.what();
    CHECK(msg.find(dir.path()) != std::string::npos);
    CHECK(msg.find("not a git repository") != std::string::npos);
  }
}
