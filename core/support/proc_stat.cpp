#include "core/support/proc_stat.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace prov {

namespace {

std::string read_link(const std::string& link) {
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

/// The pids in /proc.
std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid > 0 && end && *end == '\0') out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

std::string read_small_file(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd) return text;
  char buf[16384];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace

std::vector<pid_t> process_group_members(pid_t pgid) {
  std::vector<pid_t> out;
  if (pgid <= 0) return out;
  for (pid_t pid : all_pids())
    if (const auto s = read_proc_stat(pid); s && s->pgid == pgid && s->state != 'Z') out.push_back(pid);
  return out;
}

std::vector<uint64_t> process_socket_inodes(pid_t pid) {
  std::vector<uint64_t> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string target = read_link(dir + "/" + e->d_name);
    if (target.rfind("socket:[", 0) == 0) out.push_back(std::strtoull(target.c_str() + 8, nullptr, 10));
  }
  ::closedir(d);
  return out;
}

std::vector<uint64_t> listening_socket_inodes(int port) {
  std::vector<uint64_t> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(read_small_file(table));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
      const size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::strtol(local.c_str() + colon + 1, nullptr, 16) != port) continue;
      out.push_back(std::strtoull(inode.c_str(), nullptr, 10));
    }
  }
  return out;
}

std::optional<SocketHolder> socket_holder(const std::vector<uint64_t>& inodes) {
  if (inodes.empty()) return std::nullopt;
  for (pid_t pid : all_pids()) {
    for (uint64_t inode : process_socket_inodes(pid)) {
      if (std::find(inodes.begin(), inodes.end(), inode) == inodes.end()) continue;
      std::string name = read_small_file("/proc/" + std::to_string(pid) + "/comm");
      while (!name.empty() && name.back() == '\n') name.pop_back();
      return SocketHolder{pid, name};
    }
  }
  return std::nullopt;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  // read(2), not a stream: reading the file of a process that just ended fails with ESRCH,
  // which libstdc++'s filebuf throws.
  const UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  if (n < 0) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold anything, ')' included.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  ProcStat s;
  std::string field;
  // Fields from 3 on: state, ppid, pgrp, session, …, starttime is field 22.
  long long ppid = 0, pgrp = 0, session = 0;
  rest >> s.state >> ppid >> pgrp >> session;
  for (int i = 7; i < 22 && rest; ++i) rest >> field;
  rest >> s.start_ticks;
  if (!rest) return std::nullopt;
  s.ppid = static_cast<pid_t>(ppid);
  s.pgid = static_cast<pid_t>(pgrp);
  s.session = static_cast<pid_t>(session);
  return s;
}

bool process_alive(pid_t pid, uint64_t start_ticks) {
  const auto s = read_proc_stat(pid);
  return s && s->state != 'Z' && s->state != 'X' && s->start_ticks == start_ticks;
}

std::string process_executable(pid_t pid) { return pid > 0 ? read_link("/proc/" + std::to_string(pid) + "/exe") : ""; }

std::string self_executable() { return read_link("/proc/self/exe"); }

UniqueFd open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  if (pid > 0) return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // close-on-exec by default
#else
  (void)pid;
#endif
  return UniqueFd();
}

}  // namespace prov
