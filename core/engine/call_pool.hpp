#pragma once
/// A few threads for the blocking calls of a poll loop (operation kinds that are in-process
/// calls: file.write, config.set, provider calls, Nu closures): each call runs on a thread of
/// the pool, its result is queued, and the loop is woken through an eventfd. Threads are made
/// only when calls come, up to a bound, and joined when the pool goes.

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/ops/op_result.hpp"

namespace prov {

/// What a call gives back: a result, or an action it started that the loop now drives.
struct CallOutcome {
  OpResult result;
  std::unique_ptr<RunningOp> running;  ///< when set, `result` is not the end yet
};

class CallPool {
 public:
  /// At most `max_threads` (at least 1) calls run at once.
  explicit CallPool(size_t max_threads);
  /// Waits for the calls under way (they must end: a cancel token they watch fires first).
  ~CallPool();
  CallPool(const CallPool&) = delete;
  CallPool& operator=(const CallPool&) = delete;

  /// Runs `call` on a thread of the pool; its result comes back from take() with `tag`. A
  /// call that throws gives a failed, permanent result saying why. When no thread can be made
  /// at all (a process limit), the call runs here, now.
  void submit(size_t tag, std::function<CallOutcome()> call);
  /// Readable while results wait to be taken; -1 when no eventfd could be made (then poll
  /// take() at a short interval).
  int wake_fd() const { return wake_fd_; }
  /// The results of the calls that ended since the last take(), in the order they ended.
  std::vector<std::pair<size_t, CallOutcome>> take();

 private:
  void work();
  void finished(size_t tag, CallOutcome r);

  size_t max_threads_;
  int wake_fd_ = -1;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<size_t, std::function<CallOutcome()>>> calls_;  ///< waiting for a thread
  std::vector<std::pair<size_t, CallOutcome>> results_;                ///< waiting for take()
  std::vector<std::thread> threads_;
  size_t idle_ = 0;  ///< threads waiting for a call
  bool stop_ = false;
};

}  // namespace prov
