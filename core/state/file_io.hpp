#pragma once
/// The POSIX file handling the state layer shares: whole writes and reads,
/// and making a directory entry durable. Errors are ResourceError `provisioning::state::io`
/// naming the file and the system's reason.

#include <string>
#include <string_view>

#include "core/support/error.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

/// The ResourceError for failing to `what` (a verb phrase) `path` with errno value `err`:
/// `provisioning::state::disk_full` (ENOSPC, EDQUOT), `provisioning::state::read_only` (EROFS),
/// else `provisioning::state::io`; the message names the path and the system's reason.
ResourceError io_error(const std::string& what, const std::string& path, int err);

/// Writes all of `data` at the descriptor's position, retrying short writes and EINTR.
/// Throws io_error("write", path, …); bytes written before a failure stay written.
void write_all(int fd, std::string_view data, const std::string& path);

/// Everything from offset 0 to the end of a regular file.
std::string read_all(int fd, const std::string& path);

/// Makes the entries of directory `dir` (a created, renamed or removed file) durable: fsync.
void sync_directory(const std::string& dir);

/// The directory part of `path` ("." when it has none).
std::string parent_dir(const std::string& path);

}  // namespace prov
