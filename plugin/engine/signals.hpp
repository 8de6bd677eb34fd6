#pragma once
/// The engine's Ctrl-C, as the plugin sees it: Interrupt sets the flag for every running call,
/// Reset clears it. Waits can be woken by it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace prov::plugin {

class Signals {
 public:
  void interrupt() {
    { std::lock_guard l(m_); flag_ = true; }
    cv_.notify_all();
  }
  void reset() { std::lock_guard l(m_); flag_ = false; }
  bool interrupted() const { return flag_.load(); }
  /// Sleeps up to `d`; returns true early when interrupted.
  template <typename Rep, typename Period>
  bool sleep_for(std::chrono::duration<Rep, Period> d) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, d, [&] { return flag_.load(); });
  }

 private:
  std::atomic<bool> flag_{false};
  std::mutex m_;
  std::condition_variable cv_;
};

}  // namespace prov::plugin
