#pragma once
/// Stream plumbing with the protocol's flow control. An OutputStream is one list stream the
/// plugin produces: at most `window` items may be unacknowledged, and a Drop from the engine
/// stops it at once. An InputStream is one stream the engine produces for a call's input.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "plugin/protocol/messages.hpp"

namespace prov::plugin {

class OutputStream {
 public:
  explicit OutputStream(size_t window) : window_(window) {}
  /// Blocks until another item may be sent; false when the consumer dropped the stream or
  /// `stop()` says to give up. After the window filled up it waits until a quarter of it is
  /// free (one item for windows under 8).
  bool wait_for_credit(const std::function<bool()>& stop);
  void sent() { std::lock_guard l(m_); ++unacked_; }
  /// True when another item may be sent now without waiting.
  bool has_credit() const { std::lock_guard l(m_); return !dropped_ && unacked_ < window_; }
  void ack();
  void drop();
  bool dropped() const { std::lock_guard l(m_); return dropped_; }
  /// `flag` becomes true when the consumer drops the stream (for a producer that waits inside
  /// its own `next`).
  void set_drop_flag(std::shared_ptr<std::atomic<bool>> flag) {
    std::lock_guard l(m_);
    if (dropped_) *flag = true;
    drop_flag_ = std::move(flag);
  }
  /// Wakes a waiting producer so it re-checks its stop condition.
  void poke() { cv_.notify_all(); }

 private:
  const size_t window_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  size_t unacked_ = 0;   ///< Data sent and not yet acknowledged
  bool dropped_ = false; ///< the consumer wants no more
  bool waiting_ = false; ///< a producer waits in wait_for_credit
  std::shared_ptr<std::atomic<bool>> drop_flag_;  ///< set with dropped_, when given
};

class InputStream {
 public:
  void push(StreamData d);
  void end();
  /// Fails every waiting and future read with `why` (the engine went away).
  void abort(std::string why);
  /// The next item, or nullopt at the end. Throws std::runtime_error after abort.
  std::optional<StreamData> next();
  bool ended() const { std::lock_guard l(m_); return ended_ && items_.empty(); }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<StreamData> items_;
  bool ended_ = false;
  std::optional<std::string> aborted_;
};

}  // namespace prov::plugin
