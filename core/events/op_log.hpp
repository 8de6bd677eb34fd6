#pragma once
/// An operation's log: what its processes wrote, stdout and stderr apart, each piece with its
/// time and attempt, and the runner's own lines around each action. One record per line:
///
///   prov-op-log 1                                  the first line of a log
///   <unix ns> <attempt|-> <stream> <end> <text>     one record
///
/// `stream` is `stdout`, `stderr` or `prov` (the runner's lines: an action's start and end);
/// `-` as attempt: none (a rollback). `text` is raw bytes without a newline; `end` is `.` when a
/// newline ended it in the output, `+` when the line goes on in the next record of its stream
/// (a read that ended mid-line, or a piece of a long line). A writer appends whole records in
/// one write; a reader takes what it can: a cut last record is read as far as it goes, and a
/// line that is no record (an older log's text, what a daemon's `cat` appended) comes out as a
/// line of unknown stream, time and attempt.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prov {

/// Where a piece of an operation's log came from.
enum class OpLogStream { out, err, prov };

/// "stdout", "stderr", "prov".
std::string_view op_log_stream_name(OpLogStream s);

/// The line a new log starts with (with its newline).
std::string_view op_log_magic();

/// Appends to `out` the records of `bytes`, written to stream `s` at `unix_ns` by attempt
/// `attempt` (nullopt: none): one per line or piece of at most 64 KiB. Empty `bytes`: none.
void append_op_log_records(std::string& out, int64_t unix_ns, std::optional<int> attempt, OpLogStream s,
                           std::string_view bytes);

/// The records of `bytes` (append_op_log_records into a new string).
std::string op_log_records(int64_t unix_ns, std::optional<int> attempt, OpLogStream s, std::string_view bytes);

/// The current time as the log records it (nanoseconds since the Unix epoch).
int64_t op_log_now();

/// One line of an operation's output as read back from its log.
struct OpLogLine {
  std::optional<int64_t> time;        ///< unix ns when its first piece was written; nullopt: unknown
  std::optional<int> attempt;         ///< nullopt: unknown, or a rollback's
  std::optional<OpLogStream> stream;  ///< nullopt: a line that is no record
  std::string text;                   ///< without its newline; raw bytes (not checked as UTF-8)
  bool ends_line = true;              ///< false: a piece of a longer line, the rest comes next in its stream
  bool operator==(const OpLogLine&) const = default;
};

/// Reads a log a piece at a time, in bounded memory: lines come out once whole (a line longer
/// than `max_line` bytes in pieces of that size, not cut inside a UTF-8 character). Lines come
/// out in the order they end; pieces of a stream's line are joined across the other streams'.
class OpLogReader {
 public:
  explicit OpLogReader(size_t max_line = size_t{1} << 20) : max_line_(max_line) {}
  /// The next bytes of the log; the lines they complete are appended to `out`.
  void feed(std::string_view bytes, std::vector<OpLogLine>& out);
  /// The end of the log (as far as it is written): a cut last record and the lines still open
  /// come out.
  void finish(std::vector<OpLogLine>& out);
  /// Lines seen so far that were no record, in a log that starts as this format does.
  size_t unparsed() const { return unparsed_; }

 private:
  void take_line(std::string_view line, std::vector<OpLogLine>& out);
  void flush(size_t stream, std::vector<OpLogLine>& out);
  void flush_all(std::vector<OpLogLine>& out);
  /// Emits the pieces of `line.text` over max_line_ (ends_line false), keeping the rest in it.
  void emit_long(OpLogLine& line, std::vector<OpLogLine>& out);

  size_t max_line_;
  std::string partial_;  ///< bytes of a line not yet ended by '\n'
  bool first_ = true;    ///< no line read yet (the magic line is looked for)
  bool ours_ = false;    ///< the log starts with the magic line
  size_t unparsed_ = 0;
  /// The open line of stdout, stderr (a record ended '+'); `open` false when none.
  struct Open {
    OpLogLine line;
    bool open = false;
  } open_[2];
};

/// Every line of the log `text` (a whole log, or its tail from a line start).
std::vector<OpLogLine> read_op_log(std::string_view text);

/// Appends to `out` the output text `lines` stand for: each line's text, then a newline
/// unless it is a piece of a longer line.
void append_op_log_text(std::string& out, const std::vector<OpLogLine>& lines);

/// The text of the log `text`, as the operation's processes and the runner wrote it.
std::string op_log_text(std::string_view text);

}  // namespace prov
