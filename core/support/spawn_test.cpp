#include "core/support/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/process_test_support.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::becomes_gone;
using namespace std::chrono_literals;

namespace {

/// Everything readable from `fd` until its end.
std::string read_to_end(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

/// Runs `spec` with its stdout captured; what it printed and how it ended.
std::pair<std::string, ExitStatus> run(SpawnSpec spec) {
  Pipe p = make_pipe();
  spec.out = Redirect::fd(p.write.get());
  Child child = spawn(spec);
  p.write.reset();
  std::string out = read_to_end(p.read.get());
  return {out, child.wait()};
}

std::string output_of(std::vector<std::string> argv, ProcessGroup group = ProcessGroup::inherit) {
  SpawnSpec spec;
  spec.argv = std::move(argv);
  spec.group = group;
  return run(std::move(spec)).first;
}

/// The value of the line "`name`:\t…" of a /proc status text.
std::string status_field(const std::string& status, const std::string& name) {
  std::istringstream in(status);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) {
      const size_t v = line.find_first_not_of(" \t", name.size() + 1);
      return v == std::string::npos ? std::string() : line.substr(v);
    }
  return "(missing)";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

constexpr const char* kNoSignals = "0000000000000000";

/// The ResourceError starting `spec` throws.
ResourceError error_of(const SpawnSpec& spec) {
  try {
    spawn(spec);
  } catch (const ResourceError& e) {
    return e;
  }
  FAIL("expected a ResourceError");
  return ResourceError("", "");
}

}  // namespace

TEST_CASE("spawn: a child has no signal blocked or ignored, whatever this process blocks or ignores", "[spawn]") {
  struct sigaction ignore {
  }, old_pipe{}, old_int{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  ::sigaction(SIGINT, &ignore, &old_int);
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, &old_mask);

  // This thread really does ignore and block them, so the child's zeros mean something.
  const std::string ours = slurp("/proc/thread-self/status");
  CHECK(status_field(ours, "SigIgn") != kNoSignals);
  CHECK(status_field(ours, "SigBlk") != kNoSignals);
  for (ProcessGroup group : {ProcessGroup::inherit, ProcessGroup::own, ProcessGroup::own_session}) {
    const std::string theirs = output_of({"cat", "/proc/self/status"}, group);
    CHECK(status_field(theirs, "SigIgn") == kNoSignals);
    CHECK(status_field(theirs, "SigBlk") == kNoSignals);
  }

  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
}

TEST_CASE("spawn: a child gets descriptors 0 to 2 and those passed, nothing else of ours", "[spawn]") {
  // Opened without close-on-exec, as careless code in another thread might.
  const int leaky = ::open("/dev/null", O_RDONLY);
  REQUIRE(leaky >= 0);
  int leaky_pipe[2];
  REQUIRE(::pipe(leaky_pipe) == 0);

  // The shell lists its own descriptors (ls's own directory descriptor is not among them).
  CHECK(output_of({"sh", "-c", "ls /proc/$$/fd"}) == "0\n1\n2\n");

  SpawnSpec spec;
  spec.argv = {"sh", "-c", "ls /proc/$$/fd; echo passed >&5"};
  Pipe ready = make_pipe();
  spec.pass_fds = {{ready.write.get(), 5}};
  CHECK(run(spec).first == "0\n1\n2\n5\n");
  ready.write.reset();
  CHECK(read_to_end(ready.read.get()) == "passed\n");

  ::close(leaky);
  ::close(leaky_pipe[0]);
  ::close(leaky_pipe[1]);
}

TEST_CASE("spawn: passed descriptors may keep their numbers or swap them", "[spawn]") {
  Pipe a = make_pipe(), b = make_pipe();
  const int x = a.write.get(), y = b.write.get();
  const auto write_to = [](int fd, const std::string& what) {
    return "echo " + what + " > /proc/self/fd/" + std::to_string(fd);
  };
  SpawnSpec spec;
  spec.argv = {"sh", "-c", write_to(x, "same")};
  spec.pass_fds = {{x, x}};  // close-on-exec here, so the child's copy must be made anew
  CHECK(run(spec).second.exit_code() == 0);

  // Each goes where the other was: neither may be overwritten before it is copied.
  spec.argv = {"sh", "-c", write_to(x, "to-x") + "; " + write_to(y, "to-y")};
  spec.pass_fds = {{x, y}, {y, x}};
  CHECK(run(spec).second.exit_code() == 0);
  a.write.reset();
  b.write.reset();
  CHECK(read_to_end(a.read.get()) == "same\nto-y\n");
  CHECK(read_to_end(b.read.get()) == "to-x\n");

  spec.pass_fds = {{a.read.get(), 2}};
  CHECK_THROWS_AS(spawn(spec), ResourceError);
}

TEST_CASE("spawn: stdin is /dev/null unless given; text, files and stderr to stdout", "[spawn]") {
  CHECK(output_of({"cat"}).empty());  // ends at once: nothing of ours to read

  SpawnSpec spec;
  spec.argv = {"cat"};
  spec.in = Redirect::text("line one\n$HOME `x`\n");
  CHECK(run(spec).first == "line one\n$HOME `x`\n");

  TempDir dir("prov-spawn");
  const std::string log = dir / "out.log";
  SpawnSpec both;
  both.argv = {"sh", "-c", "echo out; echo err >&2"};
  both.out = Redirect::append(log);
  both.err = Redirect::to_stdout();
  CHECK(spawn(both).wait().exit_code() == 0);
  CHECK(spawn(both).wait().exit_code() == 0);
  CHECK(slurp(log) == "out\nerr\nout\nerr\n");
  struct stat st {};
  REQUIRE(::stat(log.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  both.out = Redirect::append(dir / "missing/out.log");
  const ResourceError no_log = error_of(both);
  CHECK(no_log.code() == "provisioning::process::log");
  CHECK_THAT(no_log.what(), Catch::Contains("missing/out.log"));
}

TEST_CASE("spawn: exit statuses and signals become one ExitStatus", "[spawn]") {
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "exit 3"};
  const ExitStatus three = spawn(spec).wait();
  CHECK(three.code == 3);
  CHECK(three.signal == 0);
  CHECK(three.exit_code() == 3);
  CHECK_FALSE(three.lost());
  CHECK(three.describe() == "exited with status 3");

  spec.argv = {"sh", "-c", "kill -KILL $$"};
  const ExitStatus killed = spawn(spec).wait();
  CHECK(killed.code == -1);
  CHECK(killed.signal == SIGKILL);
  CHECK(killed.exit_code() == 128 + SIGKILL);
  CHECK(killed.describe() == "was killed by signal 9");

  // The wait status encoding itself (Linux: status << 8, or the signal number).
  CHECK(ExitStatus::from_wait_status(0).exit_code() == 0);
  CHECK(ExitStatus::from_wait_status(5 << 8).code == 5);
  CHECK(ExitStatus::from_wait_status(SIGTERM).signal == SIGTERM);
  const ExitStatus lost;
  CHECK(lost.lost());
  CHECK(lost.exit_code() == -1);
  CHECK(lost.describe() == "ended");
}

TEST_CASE("spawn: a program that cannot start is a clear error", "[spawn]") {
  SpawnSpec spec;
  spec.argv = {"prov-no-such-program-xyz", "arg"};
  const ResourceError not_found = error_of(spec);
  CHECK(not_found.code() == "provisioning::process::spawn");
  CHECK_THAT(not_found.what(), Catch::Contains("prov-no-such-program-xyz") && Catch::Contains("not found in PATH"));
  spec.argv = {"/definitely/not/here"};
  const ResourceError no_file = error_of(spec);
  CHECK(no_file.code() == "provisioning::process::spawn");
  CHECK_THAT(no_file.what(), Catch::Contains("/definitely/not/here"));
  spec.argv = {};
  CHECK_THROWS_AS(spawn(spec), ResourceError);

  spec.argv = {"true"};
  spec.cwd = "/definitely/not/here";
  const ResourceError no_cwd = error_of(spec);
  CHECK(no_cwd.code() == "provisioning::process::spawn");
  CHECK_THAT(no_cwd.what(), Catch::Contains("working directory /definitely/not/here does not exist"));
}

TEST_CASE("spawn: runs in the given working directory and environment", "[spawn]") {
  TempDir dir("prov-spawn");
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "pwd; echo \"$ONLY\"; echo \"${HOME-unset}\""};
  spec.cwd = dir.path();
  spec.env = std::make_shared<const ChildEnv>(Environment{{"ONLY", "this"}, {"PATH", "/usr/bin:/bin"}});
  const std::string out = run(spec).first;
  std::string pwd = dir.path();
  char real[4096];
  if (::realpath(pwd.c_str(), real)) pwd = real;
  CHECK(out == pwd + "\nthis\nunset\n");
}

TEST_CASE("spawn: a child starts in our group, a group of its own or a session of its own", "[spawn]") {
  SpawnSpec spec;
  spec.argv = {"sleep", "30"};

  Child same = spawn(spec);
  auto st = read_proc_stat(same.pid());
  REQUIRE(st);
  CHECK(st->pgid == ::getpgrp());
  CHECK(st->session == ::getsid(0));
  CHECK(st->ppid == ::getpid());

  spec.group = ProcessGroup::own;
  Child group = spawn(spec);
  st = read_proc_stat(group.pid());
  REQUIRE(st);
  CHECK(st->pgid == group.pid());
  CHECK(st->session == ::getsid(0));

  spec.group = ProcessGroup::own_session;
  Child session = spawn(spec);
  st = read_proc_stat(session.pid());
  REQUIRE(st);
  CHECK(st->pgid == session.pid());
  CHECK(st->session == session.pid());
}

TEST_CASE("spawn: a Child waits, is polled without reaping, and signals its group", "[spawn]") {
  SpawnSpec spec;
  spec.argv = {"sleep", "30"};
  spec.group = ProcessGroup::own;
  Child child = spawn(spec);
  const pid_t pid = child.pid();
  CHECK(pid > 0);
  CHECK(child.pidfd() >= 0);
  CHECK_FALSE(child.exited());
  CHECK_FALSE(child.try_wait());
  CHECK_FALSE(child.reaped());

  child.kill(SIGTERM);
  pollfd p{child.pidfd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10'000) == 1);
  CHECK(child.exited());
  const auto st = read_proc_stat(pid);  // not reaped: still there, a zombie
  REQUIRE(st);
  CHECK(st->state == 'Z');

  const auto status = child.try_wait();
  REQUIRE(status);
  CHECK(status->signal == SIGTERM);
  CHECK(child.reaped());
  CHECK(child.pid() == pid);
  CHECK(child.pidfd() == -1);
  CHECK(child.wait().signal == SIGTERM);  // the same, again
  child.kill(SIGKILL);                    // reaped: signals nobody
}

TEST_CASE("spawn: a Child dropped unwaited is killed with its group and reaped", "[spawn]") {
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "sleep 30 & echo $!; wait"};
  spec.group = ProcessGroup::own;
  Pipe out = make_pipe();
  spec.out = Redirect::fd(out.write.get());
  pid_t shell = 0;
  pid_t grandchild = 0;
  {
    Child child = spawn(spec);
    shell = child.pid();
    out.write.reset();
    std::string line;
    char c;
    while (::read(out.read.get(), &c, 1) == 1 && c != '\n') line += c;
    grandchild = static_cast<pid_t>(std::stol(line));
    Child moved = std::move(child);  // the moved-from one owns nothing
    CHECK(child.reaped());
    CHECK(moved.pid() == shell);
  }
  CHECK_FALSE(read_proc_stat(shell));  // reaped: no zombie left
  CHECK(becomes_gone(grandchild));
}

TEST_CASE("spawn: make_pipe gives two close-on-exec ends", "[spawn]") {
  Pipe p = make_pipe();
  REQUIRE(p.read);
  REQUIRE(p.write);
  CHECK((::fcntl(p.read.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(p.write.get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(::write(p.write.get(), "x", 1) == 1);
  char c = 0;
  REQUIRE(::read(p.read.get(), &c, 1) == 1);
  CHECK(c == 'x');
}
