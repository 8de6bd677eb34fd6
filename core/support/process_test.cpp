#include "core/support/process.hpp"

#include <signal.h>

#include <catch2/catch.hpp>

#include "core/support/error.hpp"

using namespace prov;

TEST_CASE("run_captured collects stdout and the exit code", "[process]") {
  ProcessOutput r = run_captured({"printf", "%s|%s", "a b", "$HOME;`x`"});
  CHECK(r.exit_code == 0);
  // Arguments reach the program as they are: no shell splits or expands them.
  CHECK(r.out == "a b|$HOME;`x`");
  CHECK(r.err.empty());
}

TEST_CASE("run_captured reports failure exit codes and stderr", "[process]") {
  ProcessOutput r = run_captured({"ls", "/definitely/not/here"});
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("/definitely/not/here") != std::string::npos);
  CHECK(run_captured({"false"}).exit_code == 1);
}

TEST_CASE("run_captured gives the child an empty stdin", "[process]") {
  ProcessOutput r = run_captured({"cat"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

TEST_CASE("run_captured reads large outputs without stalling", "[process]") {
  ProcessOutput r = run_captured({"head", "-c", "300000", "/dev/zero"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 300000);
}

TEST_CASE("run_captured throws when the program does not exist", "[process]") {
  try {
    run_captured({"prov-no-such-program-xyz"});
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::process::spawn");
    CHECK(std::string(e.what()).find("prov-no-such-program-xyz") != std::string::npos);
  }
  CHECK_THROWS_AS(run_captured({}), ResourceError);
}

TEST_CASE("run_captured starts its child with every signal at its default", "[process]") {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  const ProcessOutput r = run_captured({"grep", "^SigIgn:", "/proc/self/status"});
  const ProcessOutput dies = run_captured({"sh", "-c", "kill -PIPE $$"});
  ::sigaction(SIGPIPE, &old, nullptr);
  CHECK(r.out == "SigIgn:\t0000000000000000\n");
  CHECK(dies.exit_code == 128 + SIGPIPE);
}
