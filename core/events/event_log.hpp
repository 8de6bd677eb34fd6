#pragma once
/// The per-workflow event log: one JSON record per line in `events.jsonl`, appended by the
/// runner, read (and followed while it grows) by any Nu session.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/events/event.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

/// Appends events; thread-safe. The file is created 0600. The log stays whole lines: a partial
/// last line (a crash or a full disk in mid-write) is cut off when the writer opens, and a
/// failed write takes back whatever part of it reached the file.
class EventLogWriter {
 public:
  /// Opens (creates) the log at `path`. Throws the ResourceError of file_io's io_error
  /// (`provisioning::state::disk_full`, `read_only`, `io`) naming the path.
  explicit EventLogWriter(std::string path);
  /// Writes one line (a whole line per write, so readers never see half of one).
  void append(const Event& e);
  /// Writes `lines`, whole lines each ending in '\n' (encode_json of Event::to_datum()), in
  /// one write. On failure the file is cut back to its last whole line and the error thrown.
  void append_lines(const std::string& lines);

 private:
  std::string path_;
  UniqueFd fd_;        ///< open O_APPEND for the writer's lifetime
  uint64_t size_ = 0;  ///< bytes in the file: whole lines only (the writer is the only one)
  std::mutex m_;
};

/// Reads the events of a log from the start, and whatever is appended later.
class EventLogReader {
 public:
  explicit EventLogReader(std::string path) : path_(std::move(path)) {}
  /// Events completed since the last call (a partial last line waits for its end). A missing
  /// file reads as no events yet. Malformed lines throw ResourceError naming the line.
  std::vector<Event> poll();

 private:
  std::string path_;
  uint64_t offset_ = 0;   ///< bytes consumed: always at a line start
  uint64_t line_no_ = 0;  ///< lines consumed, for messages
};

/// Every event of a log file at once.
std::vector<Event> read_event_log(const std::string& path);

}  // namespace prov
