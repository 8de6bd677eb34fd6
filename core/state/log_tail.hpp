#pragma once
/// The end of an operation's log as a shared store keeps it for other hosts: the log's last
/// bytes (at most a limit, from the start of a line) with the host and path of the whole log.
/// Kept as one value: a JSON line {host, path, size} and then the tail's bytes as they are (an
/// operation's output need not be UTF-8).
#include <cstdint>
#include <optional>
#include <string>

#include "core/support/unique_fd.hpp"

namespace prov {

struct LogTail {
  std::string host;   ///< where the whole log is
  std::string path;   ///< its path there
  uint64_t size = 0;  ///< the whole log's size in bytes
  std::string bytes;  ///< its last bytes
};

/// The last bytes of the file open on `fd` (at `path`, for messages), at most `limit`: when the
/// file is longer, from just after the first newline of its last `limit` bytes (a tail without
/// a newline is cut where no UTF-8 character is split). `size` gets the file's size.
std::string read_log_tail(int fd, size_t limit, const std::string& path, uint64_t& size);

/// `tail` as the store keeps it.
std::string encode_log_tail(const LogTail& tail);
/// What encode_log_tail made; nullopt when `value` is not that.
std::optional<LogTail> decode_log_tail(const std::string& value);

/// A file in memory holding `bytes`, open at its start, for code that reads logs from a
/// descriptor.
UniqueFd memory_file(const std::string& bytes);

}  // namespace prov
