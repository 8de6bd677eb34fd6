#pragma once
/// Wakes a reader of event logs when they may have grown, without polling the files: inotify on
/// the folders that hold them, a pidfd on the process that writes them, and any descriptor the
/// caller adds (a cancel token's, a socket). One wait, many sources, as ninja's SubprocessSet.

#include <sys/types.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>

namespace prov {

class LogWatch {
 public:
  LogWatch();
  ~LogWatch();
  LogWatch(const LogWatch&) = delete;
  LogWatch& operator=(const LogWatch&) = delete;
  LogWatch(LogWatch&& o) noexcept : inotify_(std::exchange(o.inotify_, -1)), pidfd_(std::exchange(o.pidfd_, -1)) {}
  LogWatch& operator=(LogWatch&&) = delete;

  /// Also wakes when a file in folder `dir` is written, created or moved in, or a folder is
  /// made there. False when it cannot watch it (no inotify, too many watches): the caller's
  /// timeout is then its only wake-up for that folder.
  bool watch_dir(const std::string& dir);

  /// Also wakes when process `pid` ends (one process at a time: a later call replaces it).
  /// False when it cannot (no pidfd, or no such process).
  bool watch_process(pid_t pid);

  /// Blocks until something watched happened, one of `fds` (-1s are ignored) is readable, or
  /// `timeout` has passed; returns false on the timeout. What woke it is consumed, except the
  /// caller's descriptors.
  bool wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds = {});

 private:
  int inotify_ = -1;  ///< -1 when inotify is not available
  int pidfd_ = -1;    ///< the watched process, -1 when none
};

}  // namespace prov
