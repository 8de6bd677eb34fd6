#include "core/support/process_record.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/support/subprocess.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

bool runs(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("process records: what a crash left running is stopped, a reused pid is left alone", "[process_record]") {
  TempDir dir("prov-records");
  SubprocessOptions o;
  o.argv = {"sleep", "30"};
  Subprocess left(o);  // a process group of its own, as an operation's
  Subprocess other(o);
  record_process(dir / "left", left.pid());
  // A record whose pid now belongs to another process (its start time differs).
  std::ofstream(dir / "stale") << other.pid() << " 1\n";
  std::ofstream(dir / "torn") << "12";

  const auto stopped = stop_recorded_processes(dir.path(), std::chrono::seconds(5));
  CHECK(stopped == std::vector<std::string>{"left"});
  const SubprocessResult r = left.wait({});
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(runs(other.pid()));
  CHECK(stop_recorded_processes(dir.path(), std::chrono::seconds(1)).empty());  // every record was removed

  record_process(dir / "done", other.pid());
  forget_process(dir / "done");
  CHECK(stop_recorded_processes(dir.path(), std::chrono::seconds(1)).empty());
  CHECK(runs(other.pid()));
}

TEST_CASE("process records: a group that ignores SIGTERM gets SIGKILL after the grace", "[process_record]") {
  TempDir dir("prov-records");
  SubprocessOptions o;
  o.argv = {"sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30"};
  Subprocess stubborn(o);
  ::usleep(200 * 1000);  // let the shell install its trap
  record_process(dir / "stubborn", stubborn.pid());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(stop_recorded_processes(dir.path(), std::chrono::milliseconds(300)) == std::vector<std::string>{"stubborn"});
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(300));
  CHECK(stubborn.wait({}).exit_code == 128 + SIGKILL);
}
