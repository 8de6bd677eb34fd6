#pragma once
/// A cancellation flag that long waits can be woken by: set once (cancel, Ctrl-C, shutdown),
/// seen by every holder.

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace prov {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;
  ~CancelToken() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  void cancel() {
    {
      std::lock_guard l(m_);
      flag_ = true;
      if (wake_fd_ >= 0) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
      }
    }
    cv_.notify_all();
  }
  bool cancelled() const { return flag_.load(); }
  /// Clears the flag (Nushell's Reset signal); later waits sleep again.
  void reset() {
    std::lock_guard l(m_);
    flag_ = false;
    if (wake_fd_ >= 0) {
      uint64_t n = 0;
      [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &n, sizeof n);
    }
  }
  /// Sleeps up to `d`; true when cancelled (possibly before `d` ran out).
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, d, [&] { return flag_.load(); });
  }
  /// A descriptor that is readable while the flag is set, for waits on several things at once
  /// (poll); made on first use, owned by the token. -1 when none can be made.
  int wake_fd() {
    std::lock_guard l(m_);
    if (wake_fd_ < 0) {
      wake_fd_ = ::eventfd(flag_ ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    return wake_fd_;
  }

 private:
  std::atomic<bool> flag_{false};
  std::mutex m_;
  std::condition_variable cv_;
  int wake_fd_ = -1;  ///< eventfd, counter non-zero while the flag is set; guarded by m_
};

}  // namespace prov
