#pragma once
/// A cancellation flag that long waits can be woken by: set once (cancel, Ctrl-C, shutdown),
/// seen by every holder.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace prov {

class CancelToken {
 public:
  void cancel() {
    { std::lock_guard l(m_); flag_ = true; }
    cv_.notify_all();
  }
  bool cancelled() const { return flag_.load(); }
  /// Clears the flag (Nushell's Reset signal); later waits sleep again.
  void reset() {
    std::lock_guard l(m_);
    flag_ = false;
  }
  /// Sleeps up to `d`; true when cancelled (possibly before `d` ran out).
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, d, [&] { return flag_.load(); });
  }

 private:
  std::atomic<bool> flag_{false};
  std::mutex m_;
  std::condition_variable cv_;
};

}  // namespace prov
