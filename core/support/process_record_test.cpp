#include "core/support/process_record.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/support/subprocess.hpp"
#include "core/support/temp_dir.hpp"
#include "core/support/unique_fd.hpp"

using namespace prov;

namespace {

bool runs(pid_t pid) { return ::kill(pid, 0) == 0; }

/// A descriptor of directory `path`.
UniqueFd open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  return fd;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("process records: what a crash left running is stopped, a reused pid is left alone", "[process_record]") {
  TempDir dir("prov-records");
  const UniqueFd d = open_dir(dir.path());
  SubprocessOptions o;
  o.argv = {"sleep", "30"};
  Subprocess left(o);  // a process group of its own, as an operation's
  Subprocess other(o);
  record_process(d.get(), "left", left.pid());
  // A record whose pid now belongs to another process (its start time differs).
  std::ofstream(dir / "stale") << other.pid() << " 1 /usr/bin/sleep\n";
  std::ofstream(dir / "torn") << "12";

  const auto stopped = stop_recorded_processes(d.get(), std::chrono::seconds(5));
  CHECK(stopped == std::vector<std::string>{"left"});
  const SubprocessResult r = left.wait({});
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(runs(other.pid()));
  CHECK(stop_recorded_processes(d.get(), std::chrono::seconds(1)).empty());  // every record was removed

  record_process(d.get(), "done", other.pid());
  forget_process(d.get(), "done");
  CHECK(stop_recorded_processes(d.get(), std::chrono::seconds(1)).empty());
  CHECK(runs(other.pid()));
}

TEST_CASE("process records: a record acts only on the pid, start time and executable it names", "[process_record]") {
  TempDir dir("prov-records");
  const UniqueFd d = open_dir(dir.path());
  SubprocessOptions o;
  o.argv = {"sleep", "30"};
  Subprocess victim(o);
  record_process(d.get(), "real", victim.pid());
  const std::string real = slurp(dir / "real");
  // "<pid> <start> <exe>\n": the same pid and start time with another executable (what a
  // forged record, or one from before a reboot, may say) is not this process.
  const size_t exe_at = real.find(' ', real.find(' ') + 1) + 1;
  REQUIRE(exe_at > 0);
  CHECK(real.substr(exe_at).find("sleep") != std::string::npos);
  forget_process(d.get(), "real");
  std::ofstream(dir / "forged") << real.substr(0, exe_at) << "/usr/bin/not-sleep\n";
  std::ofstream(dir / "no-exe") << real.substr(0, exe_at - 1) << "\n";
  CHECK(stop_recorded_processes(d.get(), std::chrono::seconds(1)).empty());
  CHECK(runs(victim.pid()));
  CHECK(::access((dir / "forged").c_str(), F_OK) != 0);  // removed all the same

  // A record that is a link is removed, never read or followed; its target stays as it was.
  TempDir outside("prov-outside");
  std::ofstream(outside / "target") << real;
  REQUIRE(::symlink((outside / "target").c_str(), (dir / "link").c_str()) == 0);
  CHECK(stop_recorded_processes(d.get(), std::chrono::seconds(1)).empty());
  CHECK(runs(victim.pid()));
  CHECK(slurp(outside / "target") == real);
  struct stat st {};
  CHECK(::lstat((dir / "link").c_str(), &st) != 0);
  // Nor is a record written through a link.
  REQUIRE(::symlink((outside / "target").c_str(), (dir / "op").c_str()) == 0);
  record_process(d.get(), "op", victim.pid());
  CHECK(slurp(outside / "target") == real);
}

TEST_CASE("process records: a group that ignores SIGTERM gets SIGKILL after the grace", "[process_record]") {
  TempDir dir("prov-records");
  const UniqueFd d = open_dir(dir.path());
  SubprocessOptions o;
  o.argv = {"sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30"};
  Subprocess stubborn(o);
  ::usleep(200 * 1000);  // let the shell install its trap
  record_process(d.get(), "stubborn", stubborn.pid());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(stop_recorded_processes(d.get(), std::chrono::milliseconds(300)) == std::vector<std::string>{"stubborn"});
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(300));
  CHECK(stubborn.wait({}).exit_code == 128 + SIGKILL);
}
