#include "core/support/proc_stat.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "core/support/spawn.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
namespace fs = std::filesystem;

TEST_CASE("proc_stat: this process as /proc sees it", "[proc_stat]") {
  const auto st = read_proc_stat(::getpid());
  REQUIRE(st);
  CHECK(st->state == 'R');
  CHECK(st->ppid == ::getppid());
  CHECK(st->pgid == ::getpgrp());
  CHECK(st->session == ::getsid(0));
  CHECK(st->start_ticks > 0);
  CHECK(process_alive(::getpid(), st->start_ticks));
  CHECK_FALSE(process_alive(::getpid(), st->start_ticks + 1));  // another process, once, with our pid
  CHECK_FALSE(read_proc_stat(0));
  CHECK_FALSE(read_proc_stat(-1));

  CHECK(self_executable() == fs::canonical("/proc/self/exe").string());
  CHECK(process_executable(::getpid()) == self_executable());
  CHECK(process_executable(0).empty());
}

TEST_CASE("proc_stat: a command name with spaces and parentheses does not shift the fields", "[proc_stat]") {
  TempDir dir("prov-proc-stat");
  const std::string odd = dir / "a) b (c";
  fs::copy_file(fs::canonical(ChildEnv(current_environment()).find_program("sleep", "")), odd);
  fs::permissions(odd, fs::perms::owner_all);
  SpawnSpec spec;
  spec.argv = {odd, "30"};
  spec.group = ProcessGroup::own;
  Child child = spawn(spec);
  const auto st = read_proc_stat(child.pid());
  REQUIRE(st);
  CHECK(st->ppid == ::getpid());
  CHECK(st->pgid == child.pid());
  CHECK(st->session == ::getsid(0));
  CHECK(process_alive(child.pid(), st->start_ticks));
  CHECK(process_executable(child.pid()) == fs::canonical(odd).string());
}

TEST_CASE("proc_stat: an ended process is not alive, reaped or not; its pidfd says when it ended", "[proc_stat]") {
  SpawnSpec spec;
  spec.argv = {"sleep", "30"};
  Child child = spawn(spec);
  const pid_t pid = child.pid();
  const auto st = read_proc_stat(pid);
  REQUIRE(st);
  CHECK(process_alive(pid, st->start_ticks));

  const UniqueFd pidfd = open_pidfd(pid);
  REQUIRE(pidfd);
  pollfd p{pidfd.get(), POLLIN, 0};
  CHECK(::poll(&p, 1, 0) == 0);
  child.kill(SIGKILL);
  REQUIRE(::poll(&p, 1, 10'000) == 1);
  const auto zombie = read_proc_stat(pid);
  REQUIRE(zombie);
  CHECK(zombie->state == 'Z');
  CHECK_FALSE(process_alive(pid, st->start_ticks));

  child.wait();
  CHECK_FALSE(read_proc_stat(pid));
  CHECK_FALSE(process_alive(pid, st->start_ticks));
  CHECK_FALSE(open_pidfd(0));
}

TEST_CASE("a listening socket is found by port and its holder by inode", "[proc_stat]") {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  CHECK(listening_socket_inodes(port).empty());  // bound, not listening yet
  REQUIRE(::listen(fd.get(), 1) == 0);
  const auto inodes = listening_socket_inodes(port);
  REQUIRE(inodes.size() == 1);
  const auto mine = process_socket_inodes(::getpid());
  CHECK(std::find(mine.begin(), mine.end(), inodes[0]) != mine.end());
  const auto holder = socket_holder(inodes);
  REQUIRE(holder);
  CHECK(holder->pid == ::getpid());
  CHECK_FALSE(socket_holder({}));
}

TEST_CASE("the members of a process group are found by its id", "[proc_stat]") {
  const auto me = read_proc_stat(::getpid());
  REQUIRE(me);
  const auto members = process_group_members(me->pgid);
  CHECK(std::find(members.begin(), members.end(), ::getpid()) != members.end());
  CHECK(process_group_members(0).empty());
}
