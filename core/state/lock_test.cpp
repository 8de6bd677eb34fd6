#include "core/state/lock.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

extern char** environ;

namespace {

/// A child process that takes the lock at `path`, reports whether it got it on a pipe, and
/// holds it until told to go (or killed). It never returns into the test.
struct LockHolder {
  pid_t pid = -1;
  int to_child = -1;
  bool got = false;

  explicit LockHolder(const std::string& path) {
    int up[2], down[2];
    REQUIRE(::pipe(up) == 0);
    REQUIRE(::pipe(down) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(up[0]);
      ::close(down[1]);
      auto lock = FileLock::try_acquire(path);
      const char answer = lock ? 'y' : 'n';
      if (::write(up[1], &answer, 1) != 1) ::_exit(2);
      char go;
      if (::read(down[0], &go, 1) != 1) ::_exit(3);
      if (go == 'r') lock->release();
      ::_exit(0);  // 'x': exit holding it; the kernel lets go
    }
    ::close(up[1]);
    ::close(down[0]);
    to_child = down[1];
    char answer = 0;
    REQUIRE(::read(up[0], &answer, 1) == 1);
    ::close(up[0]);
    got = answer == 'y';
  }
  /// Tells the child to release ('r') or to exit holding the lock ('x'); waits for it.
  int finish(char how) {
    REQUIRE(::write(to_child, &how, 1) == 1);
    ::close(to_child);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
  }
};

}  // namespace

TEST_CASE("lock: a second lock on the same file fails while the first holds it", "[lock]") {
  TempDir dir("prov-lock");
  const std::string path = dir / "lock";
  const mode_t old_umask = ::umask(0);
  auto first = FileLock::try_acquire(path);
  ::umask(old_umask);
  REQUIRE(first);
  CHECK(first->held());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(FileLock::holder_pid(path) == std::optional<int64_t>(::getpid()));

  // Another open of the same file in this process: flock excludes it too.
  CHECK_FALSE(FileLock::try_acquire(path));
  try {
    FileLock::acquire(path, "the workspace state", 30ms);
    FAIL("acquired a held lock");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::state::locked");
    CHECK(std::string(e.what()) == "the workspace state is locked by process " +
                                       std::to_string(::getpid()) + " (" + path + ")");
  }

  first->release();
  CHECK_FALSE(first->held());
  CHECK_FALSE(FileLock::holder_pid(path));
  auto second = FileLock::try_acquire(path);
  CHECK(second);
  second.reset();
  { auto third = FileLock::acquire(path, "x"); }  // released by its destructor
  CHECK(FileLock::try_acquire(path));
}

TEST_CASE("lock: acquire waits for the holder up to its timeout", "[lock]") {
  TempDir dir("prov-lock");
  const std::string path = dir / "lock";
  auto held = FileLock::try_acquire(path);
  REQUIRE(held);
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    held->release();
  });
  const auto start = std::chrono::steady_clock::now();
  FileLock mine = FileLock::acquire(path, "the workspace state", 5s);
  const auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  CHECK(mine.held());
  CHECK(waited >= 40ms);
  CHECK(waited < 2s);
}

TEST_CASE("lock: excludes another process, and is free once it releases or dies", "[lock]") {
  TempDir dir("prov-lock");
  const std::string path = dir / "lock";

  SECTION("the child holds it, then releases it") {
    LockHolder child(path);
    REQUIRE(child.got);
    CHECK_FALSE(FileLock::try_acquire(path));
    CHECK(FileLock::holder_pid(path) == std::optional<int64_t>(child.pid));
    try {
      FileLock::acquire(path, "workflow wf-1", 20ms);
      FAIL("acquired a lock another process holds");
    } catch (const ResourceError& e) {
      CHECK(std::string(e.what()).find("locked by process " + std::to_string(child.pid)) !=
            std::string::npos);
    }
    CHECK(child.finish('r') == 0);
    CHECK(FileLock::try_acquire(path));
  }
  SECTION("the child exits holding it") {
    LockHolder child(path);
    REQUIRE(child.got);
    CHECK_FALSE(FileLock::try_acquire(path));
    CHECK(child.finish('x') == 0);
    CHECK(FileLock::try_acquire(path));
  }
  SECTION("the child is killed holding it") {
    LockHolder child(path);
    REQUIRE(child.got);
    REQUIRE(::kill(child.pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
    CHECK(WIFSIGNALED(status));
    ::close(child.to_child);
    CHECK(FileLock::try_acquire(path));
  }
  SECTION("the parent holds it, the child cannot take it") {
    auto mine = FileLock::try_acquire(path);
    REQUIRE(mine);
    LockHolder child(path);
    CHECK_FALSE(child.got);
    CHECK(child.finish('x') == 0);
  }
}

TEST_CASE("lock: processes started while it is held do not inherit it", "[lock]") {
  TempDir dir("prov-lock");
  const std::string path = dir / "lock";
  auto mine = FileLock::try_acquire(path);
  REQUIRE(mine);
  pid_t sleeper = -1;
  const char* argv[] = {"sleep", "10", nullptr};
  REQUIRE(::posix_spawnp(&sleeper, "sleep", nullptr, nullptr, const_cast<char**>(argv), environ) ==
          0);
  mine->release();
  CHECK(FileLock::try_acquire(path));  // the sleeper, still running, holds nothing
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
}

TEST_CASE("lock: a symlink is never followed", "[lock]") {
  TempDir dir("prov-lock");
  const std::string target = dir.write("elsewhere", "keep me");
  fs::create_symlink(target, dir / "lock");
  try {
    FileLock::try_acquire(dir / "lock");
    FAIL("followed a symlink");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::state::unsafe_path");
  }
  CHECK(fs::file_size(target) == 7);
}

TEST_CASE("lock: is_held tells a held lock from a free one without writing", "[lock]") {
  TempDir dir("prov-lock");
  const std::string path = dir / "lock";
  CHECK_FALSE(FileLock::is_held(path));  // no file: nobody holds it, and none is made
  CHECK_FALSE(std::filesystem::exists(path));
  auto held = FileLock::try_acquire(path);
  REQUIRE(held);
  CHECK(FileLock::is_held(path));
  held->release();
  CHECK_FALSE(FileLock::is_held(path));
  // A read-only lock file (as on a read-only file system) still answers.
  REQUIRE(::chmod(path.c_str(), 0400) == 0);
  CHECK_FALSE(FileLock::is_held(path));
  // Probing leaves the lock free for the next holder.
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  CHECK(FileLock::try_acquire(path));
}
