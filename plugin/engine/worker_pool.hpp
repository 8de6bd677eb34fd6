#pragma once
/// Threads for plugin calls: a task runs on an idle worker, or on a new one when all are busy,
/// so a slow call never delays another and a fast call does not pay for creating a thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace prov::plugin {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_idle = 8) : max_idle_(max_idle) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  /// Runs `task` soon on a pool thread. Workers are detached: the process may end while they
  /// wait, which is how the plugin exits.
  void submit(std::function<void()> task);

 private:
  void work();

  const size_t max_idle_;  ///< idle workers beyond this many exit
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  size_t idle_ = 0;  ///< workers waiting for a task
};

}  // namespace prov::plugin
