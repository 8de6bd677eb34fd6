#pragma once
/// What a killed runner may leave running: each operation's process group is recorded in a
/// small file while it runs, so that the next runner stops what is left before it runs the
/// operation again (two copies of one operation must never run at once). A record is
/// "<pid> <start time> <executable>": the start time in clock ticks since boot (from /proc) and
/// the program the process ran when it was recorded, so that a pid the system has since given
/// to another process (after a reboot too) is never taken for it. Records live in a folder
/// held by a descriptor (the state directory's safe_dir.hpp) and are read, written and removed
/// through it, never through a symbolic link. They are not synced: a process outlives its
/// runner's crash, not the machine's.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace prov {

/// Records that `pid` (a process group leader) runs, as the file `name` in the folder open at
/// `dir_fd`. Best effort: a record that cannot be written only means a crash could leave that
/// process running.
void record_process(int dir_fd, const std::string& name, pid_t pid);

/// Removes the record `name` in the folder open at `dir_fd` (the process ended).
void forget_process(int dir_fd, const std::string& name);

/// Every process recorded in the folder open at `dir_fd` that still runs as recorded (the same
/// pid, start time and executable) gets SIGTERM with its group, then SIGKILL after `grace`;
/// every record is removed (a link among them is removed, not followed). Returns the names of
/// the records whose processes were still running, sorted.
std::vector<std::string> stop_recorded_processes(int dir_fd, std::chrono::milliseconds grace);

}  // namespace prov
