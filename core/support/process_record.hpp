#pragma once
/// What a killed runner may leave running: each operation's process group is recorded in a
/// small file while it runs, so that the next runner stops what is left before it runs the
/// operation again (two copies of one operation must never run at once). A record is
/// "<pid> <start time>" (the start time in clock ticks since boot, from /proc), so a pid the
/// system has since given to another process is never taken for it. Records are not synced:
/// a process outlives its runner's crash, not the machine's.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace prov {

/// Records that `pid` (a process group leader) runs, at `path`. Best effort: a record that
/// cannot be written only means a crash could leave that process running.
void record_process(const std::string& path, pid_t pid);

/// Removes the record at `path` (the process ended).
void forget_process(const std::string& path);

/// Every process recorded in `dir` that still runs gets SIGTERM with its group, then SIGKILL
/// after `grace`; every record is removed. Returns the names of the records whose processes
/// were still running, sorted.
std::vector<std::string> stop_recorded_processes(const std::string& dir, std::chrono::milliseconds grace);

}  // namespace prov
