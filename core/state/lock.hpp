#pragma once
/// Exclusive locks between processes sharing a workspace: the workspace lock (`<state>/lock`)
/// and each workflow's runner lock (`workflows/<id>/runner.lock`), so that several Nu
/// sessions never change the same state at once. Readers of state need no lock.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/state/file_io.hpp"

namespace prov {

/// An exclusive advisory lock (flock) on a lock file, held from acquisition until release()
/// or destruction, and let go by the kernel when the holding process dies. flock locks belong
/// to an open file, so two FileLocks on one path exclude each other even within one process
/// (taking a lock this process holds waits for itself). Child processes never inherit it.
class FileLock {
 public:
  /// Takes the lock on `path` when nobody holds it; nullopt when someone does. The file is
  /// created 0600 if missing and never followed through a symlink (ResourceError
  /// `provisioning::state::unsafe_path`); the holder's pid is written into it for messages.
  static std::optional<FileLock> try_acquire(const std::string& path);

  /// Takes the lock on `path`, waiting up to `timeout` for the holder to let go. Throws
  /// ResourceError `provisioning::state::locked`: "<what> is locked by process <pid> (<path>)".
  static FileLock acquire(const std::string& path, const std::string& what,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  /// True when some process holds the lock at `path`; false when nobody does or there is no
  /// file. Creates and writes nothing, so it answers on a full or read-only file system too.
  static bool is_held(const std::string& path);

  /// The pid recorded by the holder of the lock at `path`; nullopt when none is recorded.
  /// Only for messages: it may have let go since.
  static std::optional<int64_t> holder_pid(const std::string& path);

  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept;
  ~FileLock() { release(); }

  /// Lets go of the lock (once; later calls do nothing).
  void release();
  /// True until release().
  bool held() const { return static_cast<bool>(fd_); }
  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;  ///< the open lock file holding the flock; closed once released
};

}  // namespace prov
