#include "core/support/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/support/error.hpp"
#include "core/support/process_test_support.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::becomes_gone;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Duration ms(int64_t n) { return Duration{n * 1'000'000}; }

SubprocessResult run(std::vector<std::string> argv, const std::string& log = {},
                     SubprocessLimits limits = {}) {
  SubprocessOptions o;
  o.argv = std::move(argv);
  o.log_path = log;
  return run_subprocess(o, limits);
}

}  // namespace

TEST_CASE("subprocess reports exit codes and signals", "[subprocess]") {
  CHECK(run({"true"}).exit_code == 0);
  CHECK(run({"false"}).exit_code == 1);
  CHECK(run({"sh", "-c", "exit 7"}).exit_code == 7);
  SubprocessResult killed = run({"sh", "-c", "kill -9 $$"});
  CHECK(killed.exit_code == 128 + SIGKILL);
  CHECK_FALSE(killed.timed_out);
  CHECK_FALSE(killed.cancelled);
  CHECK(killed.duration.nanos > 0);
}

TEST_CASE("subprocess appends stdout and stderr to one log file, created 0600", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "op.log";
  REQUIRE(run({"sh", "-c", "echo out; echo err >&2"}, log).exit_code == 0);
  REQUIRE(run({"sh", "-c", "echo again"}, log).exit_code == 0);
  CHECK(slurp(log) == "out\nerr\nagain\n");
  struct stat st {};
  REQUIRE(::stat(log.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("subprocess gives the child exactly the environment it is given", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "env.log";
  SubprocessOptions o;
  o.argv = {"sh", "-c", "printf '%s|%s' \"$PROV_X\" \"${HOME-unset}\""};
  o.env = Environment{{"PATH", std::getenv("PATH")}, {"PROV_X", "a b; $(c)"}};
  o.log_path = log;
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(slurp(log) == "a b; $(c)|unset");
}

TEST_CASE("subprocess looks the program up in the child's PATH", "[subprocess]") {
  TempDir dir;
  const std::string script = dir.write("bin/prov-hello", "#!/bin/sh\necho hello from bin\n");
  ::chmod(script.c_str(), 0755);
  SubprocessOptions o;
  o.argv = {"prov-hello"};
  o.env = Environment{{"PATH", dir / "bin"}};
  o.log_path = dir / "log";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(slurp(dir / "log") == "hello from bin\n");

  // A PATH without sh: not found, although this process's PATH has it.
  o.argv = {"sh", "-c", "true"};
  CHECK_THROWS_AS(run_subprocess(o, {}), ResourceError);
}

TEST_CASE("subprocess runs in the given working directory", "[subprocess]") {
  TempDir dir;
  const std::string work = dir.mkdir("work dir");
  SubprocessOptions o;
  o.argv = {"pwd", "-P"};
  o.cwd = work;
  o.log_path = dir / "log";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  char* real = ::realpath(work.c_str(), nullptr);
  REQUIRE(real);
  CHECK(slurp(dir / "log") == std::string(real) + "\n");
  std::free(real);
}

TEST_CASE("subprocess feeds stdin text, and /dev/null without it", "[subprocess]") {
  TempDir dir;
  SubprocessOptions o;
  o.argv = {"cat"};
  o.stdin_text = "line one\nline 'two'; $(x)\n";
  o.log_path = dir / "cat.log";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(slurp(o.log_path) == *o.stdin_text);

  // Far more than a pipe holds, to a child that reads nothing until it is done sleeping.
  o.argv = {"sh", "-c", "sleep 0.1; wc -c"};
  o.stdin_text = std::string(1 << 20, 'x');
  o.log_path = dir / "wc.log";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(slurp(o.log_path).find("1048576") != std::string::npos);

  CHECK(run({"cat"}, dir / "empty.log").exit_code == 0);
  CHECK(slurp(dir / "empty.log").empty());
}

TEST_CASE("subprocess passes argv elements literally: no shell sees them", "[subprocess]") {
  TempDir dir;
  const std::string marker = dir / "marker";
  const std::vector<std::string> hostile = {
      "a; touch " + marker, "$(touch " + marker + ")", "`touch " + marker + "`",
      "x\ntouch " + marker, "| touch " + marker + " &&"};
  std::vector<std::string> argv = {"printf", "[%s]"};
  argv.insert(argv.end(), hostile.begin(), hostile.end());
  REQUIRE(run(argv, dir / "log").exit_code == 0);
  std::string expected;
  for (const std::string& h : hostile) expected += "[" + h + "]";
  CHECK(slurp(dir / "log") == expected);
  CHECK(::access(marker.c_str(), F_OK) != 0);
}

TEST_CASE("subprocess timeout kills the whole process group", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "log";
  SubprocessOptions o;
  o.argv = {"sh", "-c", "sleep 30 & echo $!; sleep 30"};
  o.log_path = log;
  Subprocess p(o);
  const pid_t child = p.pid();
  SubprocessResult r = p.wait({ms(300), nullptr, ms(200)});
  CHECK(r.timed_out);
  CHECK_FALSE(r.cancelled);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.duration.nanos < 3'000'000'000);
  const pid_t grandchild = std::atoi(slurp(log).c_str());
  REQUIRE(grandchild > 0);
  CHECK(becomes_gone(child));
  CHECK(becomes_gone(grandchild));
}

TEST_CASE("subprocess escalates to SIGKILL when the group ignores SIGTERM", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "log";
  SubprocessOptions o;
  // An ignored signal stays ignored in the background child too.
  o.argv = {"sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"};
  o.log_path = log;
  Subprocess p(o);
  SubprocessResult r = p.wait({ms(200), nullptr, ms(200)});
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(r.duration.nanos >= 400'000'000);
  CHECK(r.duration.nanos < 3'000'000'000);
  const pid_t grandchild = std::atoi(slurp(log).c_str());
  REQUIRE(grandchild > 0);
  CHECK(becomes_gone(grandchild));
}

TEST_CASE("subprocess stops the group when the CancelToken fires", "[subprocess]") {
  CancelToken cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel.cancel();
  });
  SubprocessResult r = run({"sleep", "30"}, {}, {Duration{0}, &cancel, ms(200)});
  canceller.join();
  CHECK(r.cancelled);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.duration.nanos < 2'000'000'000);
}

TEST_CASE("subprocess resets signals the parent ignores", "[subprocess]") {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old);
  const int code = run({"sh", "-c", "kill -TERM $$; exit 0"}).exit_code;
  ::sigaction(SIGTERM, &old, nullptr);
  CHECK(code == 128 + SIGTERM);
}

TEST_CASE("subprocess reports programs it cannot start as errors", "[subprocess]") {
  try {
    run({"prov-no-such-program-xyz", "arg"});
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::process::spawn");
    CHECK(std::string(e.what()).find("prov-no-such-program-xyz") != std::string::npos);
  }
  CHECK_THROWS_AS(run({}), ResourceError);
  CHECK_THROWS_AS(run({"/definitely/not/here"}), ResourceError);

  SubprocessOptions o;
  o.argv = {"true"};
  o.cwd = "/definitely/not/here";
  try {
    run_subprocess(o, {});
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(std::string(e.what()).find("/definitely/not/here") != std::string::npos);
  }

  o.cwd.clear();
  o.log_path = "/definitely/not/here/log";
  try {
    run_subprocess(o, {});
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::process::log");
  }
}

TEST_CASE("subprocess never waits for another thread's child", "[subprocess]") {
  constexpr int n = 24;
  std::vector<int> codes(n, -2);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&codes, i] {
      // Uneven lengths, so children end in a different order than they started.
      const std::string script = "sleep 0.0" + std::to_string((i * 7) % 10) + "; exit " + std::to_string(i);
      codes[i] = run({"sh", "-c", script}).exit_code;
    });
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < n; ++i) CHECK(codes[i] == i);
}

TEST_CASE("subprocess kills and reaps a child nobody waited for", "[subprocess]") {
  pid_t pid = 0;
  {
    SubprocessOptions o;
    o.argv = {"sleep", "30"};
    Subprocess p(o);
    pid = p.pid();
    CHECK(::kill(pid, 0) == 0);
  }
  CHECK(::kill(pid, 0) != 0);  // reaped: not even a zombie is left
  CHECK(errno == ESRCH);
}

TEST_CASE("a ChildEnv looks each program up once, and again when the file moved", "[subprocess]") {
  TempDir dir;
  const std::string first = dir.write("a/prov-where", "#!/bin/sh\necho from a\n");
  ::chmod(first.c_str(), 0755);
  dir.mkdir("b");
  auto env = std::make_shared<const ChildEnv>(Environment{{"PATH", dir / "a" + ":" + dir / "b"}});
  CHECK(std::string(env->envp()[0]) == "PATH=" + dir / "a" + ":" + dir / "b");
  CHECK(env->envp()[1] == nullptr);
  SubprocessOptions o;
  o.argv = {"prov-where"};
  o.shared_env = env;
  o.log_path = dir / "log";
  for (int i = 0; i < 3; ++i) REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(env->lookups() == 1);
  CHECK(slurp(dir / "log") == "from a\nfrom a\nfrom a\n");

  // The remembered file is gone: the failed start looks once more and finds the new one.
  ::unlink(first.c_str());
  const std::string second = dir.write("b/prov-where", "#!/bin/sh\necho from b\n");
  ::chmod(second.c_str(), 0755);
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(env->lookups() == 2);
  CHECK(slurp(dir / "log") == "from a\nfrom a\nfrom a\nfrom b\n");

  // Gone everywhere: an error naming the program, not a stale success.
  ::unlink(second.c_str());
  CHECK_THROWS_AS(run_subprocess(o, {}), ResourceError);
}

TEST_CASE("a ChildEnv whose PATH is relative looks programs up per working directory", "[subprocess]") {
  TempDir dir;
  for (const char* w : {"one", "two"}) {
    const std::string script = dir.write(std::string(w) + "/bin/prov-where", std::string("#!/bin/sh\necho ") + w + "\n");
    ::chmod(script.c_str(), 0755);
  }
  SubprocessOptions o;
  o.argv = {"prov-where"};
  o.shared_env = std::make_shared<const ChildEnv>(Environment{{"PATH", "bin"}});
  o.log_path = dir / "log";
  o.cwd = dir / "one";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  o.cwd = dir / "two";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(slurp(dir / "log") == "one\ntwo\n");
  CHECK(o.shared_env->lookups() == 2);
}

TEST_CASE("subprocess writes to a log descriptor it is given and leaves it open", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "fd.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  SubprocessOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2"};
  o.log_fd = fd;
  o.log_path = dir / "ignored.log";
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(::write(fd, "end\n", 4) == 4);  // still ours
  ::close(fd);
  CHECK(slurp(log) == "out\nerr\nout\nerr\nend\n");
  CHECK(::access((dir / "ignored.log").c_str(), F_OK) != 0);
}

TEST_CASE("subprocess with open_log asks for the log only at the first output", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "lazy.log";
  int asked = 0;
  int fd = -1;
  SubprocessOptions o;
  o.open_log = [&] {
    ++asked;
    fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    return fd;
  };
  o.argv = {"true"};
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(asked == 0);
  CHECK(::access(log.c_str(), F_OK) != 0);

  o.argv = {"sh", "-c", "echo out; echo err >&2; head -c 200000 /dev/zero | tr '\\0' x; exit 3"};
  REQUIRE(run_subprocess(o, {}).exit_code == 3);
  CHECK(asked == 1);
  ::close(fd);
  const std::string text = slurp(log);
  CHECK(text.rfind("out\nerr\n", 0) == 0);
  CHECK(text.size() == 8 + 200000);
}

TEST_CASE("subprocess with open_log hands a daemon's output to a cat: no wait, nothing lost",
          "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "daemon.log";
  int fd = -1;
  SubprocessOptions o;
  o.open_log = [&] { return fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); };
  // The child exits at once; what it started keeps its output and writes later.
  o.argv = {"sh", "-c", "(sleep 0.3; echo late; echo done > " + dir / "daemon-ok" + ") & echo early"};
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_subprocess(o, {}).exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 250ms);
  ::close(fd);
  for (int i = 0; i < 300 && slurp(log) != "early\nlate\n"; ++i) std::this_thread::sleep_for(10ms);
  CHECK(slurp(log) == "early\nlate\n");
  for (int i = 0; i < 300 && slurp(dir / "daemon-ok").empty(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(slurp(dir / "daemon-ok") == "done\n");  // its echo did not die of SIGPIPE
}

TEST_CASE("subprocess with open_log still times out a child that never stops writing", "[subprocess]") {
  int fd = -1;
  SubprocessOptions o;
  // /dev/null as the log: `yes` writes as fast as it is read, and nothing fills the disk.
  o.open_log = [&] { return fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC); };
  o.argv = {"yes"};
  SubprocessLimits limits;
  limits.timeout = ms(300);
  limits.kill_grace = ms(200);
  const SubprocessResult r = run_subprocess(o, limits);
  ::close(fd);
  CHECK(r.timed_out);
  CHECK(r.duration.nanos < 3'000'000'000);
  CHECK(fd >= 0);  // it did write
}

TEST_CASE("subprocess cuts a log at the file size limit with a marker; the child goes on", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "big.log";
  int fd = -1;
  SubprocessOptions o;
  o.open_log = [&] { return fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); };
  o.argv = {"sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x; echo; echo after"};
  // The runner's set-up: SIGXFSZ ignored, so a write past RLIMIT_FSIZE fails with EFBIG.
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 64 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  const SubprocessResult r = run_subprocess(o, {});
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  ::close(fd);
  CHECK(r.exit_code == 0);  // the child wrote all it had: nothing blocked it
  const std::string text = slurp(log);
  CHECK(text.size() == 64 * 1024);
  const std::string marker = "\n[output cut here: the log reached the file size limit]\n";
  CHECK(text.substr(text.size() - marker.size()) == marker);
  CHECK(text.find("after") == std::string::npos);
}

TEST_CASE("subprocess with keep_stdout keeps stdout apart; the log still gets both streams", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "both.log";
  int fd = -1;
  SubprocessOptions o;
  o.open_log = [&] { return fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); };
  o.keep_stdout = 10;
  o.argv = {"sh", "-c", "echo out; echo err >&2; sleep 0.05; echo more"};
  Subprocess p(o);
  CHECK(p.stdout_fd() >= 0);
  CHECK(p.stdout_fd() != p.output_fd());
  REQUIRE(p.wait({}).exit_code == 0);
  ::close(fd);
  CHECK(p.stdout_text() == "out\nmore\n");
  CHECK_FALSE(p.stdout_overflowed());
  const std::string text = slurp(log);
  CHECK(text.find("out\n") != std::string::npos);
  CHECK(text.find("err\n") != std::string::npos);
  CHECK(text.find("more\n") != std::string::npos);
  CHECK(text.size() == 13);

  o.keep_stdout = 4;
  o.argv = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"};
  Subprocess big(o);
  REQUIRE(big.wait({}).exit_code == 0);
  ::close(fd);
  CHECK(big.stdout_text() == "xxxx");
  CHECK(big.stdout_overflowed());
  CHECK(slurp(log).size() == 13 + 300000);  // the log has all of it
}

TEST_CASE("subprocess with frame_output writes each stream's pieces to the log as framed", "[subprocess]") {
  TempDir dir;
  const std::string log = dir / "framed.log";
  int fd = -1;
  SubprocessOptions o;
  o.open_log = [&] { return fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); };
  o.frame_output = [](OutputStream s, std::string_view bytes) {
    return std::string(s == OutputStream::out   ? "[o:"
                       : s == OutputStream::err ? "[e:"
                                                : "[n:") +
           std::string(bytes) + "]";
  };
  o.argv = {"sh", "-c", "printf out; printf err >&2"};
  Subprocess p(o);
  CHECK(p.stdout_fd() >= 0);
  CHECK(p.stdout_fd() != p.output_fd());
  REQUIRE(p.wait({}).exit_code == 0);
  ::close(fd);
  const std::string text = slurp(log);
  CHECK(text.find("[o:out]") != std::string::npos);
  CHECK(text.find("[e:err]") != std::string::npos);
  CHECK(text.size() == 14);
  CHECK(p.stdout_text().empty());  // keep_stdout unset: nothing kept
}
