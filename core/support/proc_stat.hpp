#pragma once
/// What the system says about a process by its pid: the one reader of /proc/<pid>/stat and
/// /proc/<pid>/exe, and its pidfd. A pid alone may name another process by now (pids are
/// reused); its start time tells them apart.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/support/unique_fd.hpp"

namespace prov {

/// What /proc/<pid>/stat says about a process.
struct ProcStat {
  char state = '?';  ///< R, S, D, Z, …
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t session = 0;
  uint64_t start_ticks = 0;  ///< field 22: start time in clock ticks after boot
};

/// /proc/<pid>/stat of `pid`; nullopt when there is no such process.
std::optional<ProcStat> read_proc_stat(pid_t pid);

/// True when `pid` is a live process (not a zombie) started at `start_ticks`: a pid that was
/// reused by another process is never taken for it.
bool process_alive(pid_t pid, uint64_t start_ticks);

/// The program file `pid` runs (/proc/<pid>/exe); "" when that cannot be read.
std::string process_executable(pid_t pid);

/// The program file this process runs (/proc/self/exe); "" when that cannot be read.
std::string self_executable();

/// The processes whose process group is `pgid` (a scan of /proc).
std::vector<pid_t> process_group_members(pid_t pgid);

/// The inodes of the sockets `pid` holds open (its /proc/<pid>/fd entries "socket:[N]").
std::vector<uint64_t> process_socket_inodes(pid_t pid);

/// The inodes of the TCP sockets (IPv4 and IPv6) listening on `port` in this process's network
/// namespace (/proc/net/tcp, /proc/net/tcp6).
std::vector<uint64_t> listening_socket_inodes(int port);

/// A process holding one of `inodes` open, and its command name; nullopt when none is seen
/// (another user's processes cannot be looked into).
struct SocketHolder {
  pid_t pid = 0;
  std::string name;
};
std::optional<SocketHolder> socket_holder(const std::vector<uint64_t>& inodes);

/// A descriptor that becomes readable when process `pid` (any, not only a child) ends; none when
/// it cannot be had (no such process, no pidfd support). Close-on-exec.
UniqueFd open_pidfd(pid_t pid);

}  // namespace prov
