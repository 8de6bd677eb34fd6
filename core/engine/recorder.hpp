#pragma once
/// The run's record keeper, apart from the scheduler (as ninja's BuildLog is apart from its
/// Builder): every journal append and every event-log write of a run goes through it. It keeps
/// their order (an event becomes visible in the event log only once its journal record is
/// durable, in journal order), shares one fdatasync among the records made since the last
/// (group commit), and latches the first failure to write (a full disk, a read-only file
/// system, an I/O error, a machine limit): from then on nothing is recorded and the run's
/// cancel token fires, so that nothing happens that is not journaled.

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/events/event.hpp"
#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov {

class JournalWriter;
class EventAppender;

class Recorder {
 public:
  /// Records into `journal` and `log` (both outlive it). `journaled` and `undo` are what the
  /// journal held already (for the checkpoint); `cancel` fires when recording fails.
  Recorder(JournalWriter& journal, EventAppender& log, std::vector<Event> journaled, std::vector<Datum> undo,
           CancelToken& cancel);
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Journals `e` (with `undo` for operation_succeeded). With `durable`, returns once it and
  /// every earlier record are on disk and in the event log; otherwise it may stay unseen until
  /// the next durable record or sync(). Never throws: a failure latches (failed()).
  void record(const Event& e, const Datum& undo, bool durable);
  /// Makes everything recorded so far durable and visible. Never throws, like record().
  void sync();

  /// Appends to the event log the journaled events it lacks (it holds the first `logged` of
  /// them): a runner killed between journaling an event and publishing it left them out.
  /// Nothing when `records` hold a checkpoint (the run had ended, publishing everything first).
  void publish_unlogged(size_t logged, const std::vector<Datum>& records);

  /// True once recording failed; failure() is the first error.
  bool failed() const;
  /// True while recording works and the journal's claim is still held. Asked right before
  /// anything happens outside the store (an operation's process, an undo step): a runner
  /// paused between journaling a start and making it (SIGSTOP, a stalled machine) past its
  /// claim's lease must not act after another runner took the workflow over. A lost claim
  /// latches as the failure (claim_lost; the cancel fires), as a refused write would.
  bool may_act();
  std::optional<ResourceError> failure() const;

  /// Folds the journal into one checkpoint of workflow `id` under `header` (the run has ended).
  void checkpoint(const std::string& id, const Datum& header);

 private:
  /// Appends the durable lines to the event log, in journal order.
  void publish();
  void fail(const ResourceError& e);

  JournalWriter& journal_;  ///< the store's, under the runner's claim
  EventAppender& log_;
  CancelToken& cancel_;
  mutable std::mutex m_;       ///< guards everything below and the order of appends
  std::vector<Event> events_;  ///< everything journaled, for the checkpoint
  std::vector<Datum> undo_;    ///< by event
  /// Encoded events journaled but not yet in the event log, with their journal sequence.
  std::deque<std::pair<uint64_t, std::string>> unpublished_;
  std::mutex publish_m_;  ///< one publisher at a time, so that lines keep their order
  std::optional<ResourceError> failure_;
};

}  // namespace prov
