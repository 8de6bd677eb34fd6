#pragma once
/// A folder of the state directory held by a descriptor that was opened without following a
/// symbolic link, and everything done in it through that descriptor (openat, mkdirat,
/// unlinkat with O_NOFOLLOW): a link put in the place of the folder, of a folder below it or
/// of a file in it leads nowhere. A link met is ResourceError `provisioning::state::unsafe_path`
/// and nothing is read, written or removed through it.

#include <optional>
#include <string>
#include <vector>

#include "core/state/file_io.hpp"

namespace prov {

/// The ResourceError `provisioning::state::unsafe_path` for `path`, which is `what` (a
/// symbolic link, not a directory, …).
ResourceError unsafe_state_path(const std::string& path, const std::string& what);

/// One folder, open. Movable, not copyable; the descriptor closes with it.
class SafeDir {
 public:
  /// The directory at `path` (its own links are followed: the caller has checked the path, as
  /// StateDir::open does), creating it 0700 first when `create`. Throws unsafe_path when it is
  /// not a directory, `provisioning::state::io` when it cannot be opened (missing, …).
  static SafeDir open(const std::string& path, bool create = false);

  /// The folder `name` in this one, made 0700 when missing and `create`; nullopt when missing
  /// and not `create`. Throws unsafe_path when it is a link or not a directory.
  std::optional<SafeDir> find(const std::string& name, bool create = false) const;
  /// As find(), but a missing folder is ResourceError `provisioning::state::io`.
  SafeDir sub(const std::string& name, bool create = false) const;

  /// Opens the regular file `name` in this folder with `flags` (O_CREAT: made with exactly
  /// `mode`). Throws unsafe_path when it is a link or not a regular file, io_error otherwise;
  /// with `missing_ok`, a missing file gives an empty descriptor instead.
  UniqueFd open_file(const std::string& name, int flags, unsigned mode = 0600, bool missing_ok = false) const;

  /// The bytes of regular file `name`; nullopt when it is missing. Throws like open_file().
  std::optional<std::string> read_file(const std::string& name) const;

  /// Replaces (or creates) `name` with `data` and exactly `mode`, atomically and durably: a
  /// temporary file written and fsynced, renamed over `name`, the folder fsynced.
  void write_file_atomic(const std::string& name, const std::string& data, unsigned mode = 0600) const;

  /// Removes the entry `name` (a link is removed, never followed); missing is fine.
  void remove(const std::string& name) const;

  /// The names of the entries here, `.` and `..` left out, unsorted.
  std::vector<std::string> names() const;

  /// Throws unsafe_path naming the first entry here that is a symbolic link, or (with
  /// `files_only`) anything but a regular file or a socket.
  void check_entries(bool files_only) const;

  /// The folder's path, for messages.
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  SafeDir(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;       ///< an O_DIRECTORY descriptor of the folder
  std::string path_;  ///< where it was when opened
};

}  // namespace prov
