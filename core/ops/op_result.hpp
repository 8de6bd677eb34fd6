#pragma once
/// How one run or rollback of an operation ended: the one result that goes from the process
/// (or the in-process call) through the scheduler into the operation's events, never copied
/// field by field into another type on the way.

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

struct OpResult {
  bool ok = false;
  std::optional<int64_t> exit_code;  ///< of the process, when one ran and was reaped
  bool timed_out = false;
  bool cancelled = false;
  bool permanent = false;  ///< another attempt cannot help (the cause does not pass with time)
  std::string code;        ///< stable error code when !ok (`provisioning::operation::failed`, …)
  std::string message;     ///< what happened, one line
  Datum undo;              ///< what rollback needs: JSON-able, journaled; null when nothing
  /// What later operations reference as {{ops.<id>.out}} (DESIGN.md, per kind): journaled
  /// with operation_succeeded; null when the kind gives nothing.
  Datum out;
  Duration duration;
  /// A resource the action made, removed or changed: its event type (resource_created,
  /// resource_deleted or configuration_changed; empty when none) and a record naming it
  /// (provider, type, id, name for a server; type, key, file for configuration).
  std::string resource_event;
  Datum resource;
  /// The last lines of the action's output (stdout and stderr as its log holds them), at most
  /// kOutputTailBytes; empty when it printed nothing. Shown with a failure.
  std::string output_tail;
};

/// An action under way (OpKind::start) that the caller's poll loop drives to its end, so that
/// one thread waits on any number of them: no thread per process.
class RunningOp {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~RunningOp() = default;
  /// Appends the descriptors (POLLIN) whose readiness means step() has something to do.
  virtual void poll_fds(std::vector<pollfd>& fds) const = 0;
  /// When step() is due though no descriptor became ready (a timeout, a kill grace); nullopt:
  /// only a descriptor wakes it.
  virtual std::optional<Clock::time_point> wake_at() const = 0;
  /// Does what is due without blocking (copies output; on timeout, or when the context's
  /// CancelToken fired, stops the process) and returns the result once the action has ended.
  virtual std::optional<OpResult> step() = 0;
};

/// An action that ended before it got going (it could not start): step() returns `r` at once.
class EndedOp : public RunningOp {
 public:
  explicit EndedOp(OpResult r) : r_(std::move(r)) {}
  void poll_fds(std::vector<pollfd>&) const override {}
  std::optional<Clock::time_point> wake_at() const override { return Clock::time_point::min(); }
  std::optional<OpResult> step() override { return std::move(r_); }

 private:
  OpResult r_;
};

/// The most stdout a command's `out` keeps: more fails the operation, naming this bound, when
/// its out is parsed (output = "json") or referenced; otherwise the out is left null.
inline constexpr size_t kMaxOutBytes = 1 << 20;

/// The most output a result keeps (output_tail).
inline constexpr size_t kOutputTailBytes = 2048;
/// The most lines of it.
inline constexpr size_t kOutputTailLines = 20;

/// The last whole lines of `text` within kOutputTailBytes and kOutputTailLines, without the
/// final newline; a line cut at the byte bound starts with "…".
std::string output_tail(std::string_view text);

/// A successful result with `message`.
OpResult op_succeeded(std::string message, Datum undo = {});
/// A failed result with `code` and `message`.
OpResult op_failed(std::string code, std::string message);

}  // namespace prov
