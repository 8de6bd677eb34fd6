#include "core/support/proc_stat.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace prov {

namespace {

std::string read_link(const std::string& link) {
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

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
