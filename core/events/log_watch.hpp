#pragma once
/// Wakes a reader of event logs when they may have grown, without polling the files: inotify on
/// the folders that hold them, a pidfd on the process that writes them, and any descriptor the
/// caller adds (a cancel token's, a socket). One wait, many sources, as ninja's SubprocessSet.

#include <sys/types.h>

#include <chrono>
#include <initializer_list>
#include <string>

#include "core/support/unique_fd.hpp"

namespace prov {

class LogWatch {
 public:
  LogWatch();
  LogWatch(LogWatch&&) noexcept = default;
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
  UniqueFd inotify_;  ///< none when inotify is not available
  UniqueFd pidfd_;    ///< the watched process, none when none
};

}  // namespace prov
