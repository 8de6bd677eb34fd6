#include "plugin/engine/streams.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace prov::plugin {

bool OutputStream::wait_for_credit(const std::function<bool()>& stop) {
  std::unique_lock l(m_);
  // Once the window is full, wait until a quarter of it is free again: producer and consumer
  // then take turns in runs of items, not one item (and one wake-up) at a time.
  const size_t resume_at = window_ - std::max<size_t>(1, window_ / 4);
  bool full = unacked_ >= window_;
  while (true) {
    if (dropped_) return false;
    if (stop && stop()) return false;
    if (full ? unacked_ <= resume_at : unacked_ < window_) return true;
    full = true;
    waiting_ = true;
    // Re-check `stop` now and then: signals and shutdown are not tied to this condvar.
    cv_.wait_for(l, std::chrono::milliseconds(50));
    waiting_ = false;
  }
}

void OutputStream::ack() {
  bool wake;
  {
    std::lock_guard l(m_);
    if (unacked_ > 0) --unacked_;
    wake = waiting_ && unacked_ <= window_ - std::max<size_t>(1, window_ / 4);
  }
  if (wake) cv_.notify_all();
}

void OutputStream::drop() {
  {
    std::lock_guard l(m_);
    dropped_ = true;
    if (drop_flag_) *drop_flag_ = true;
  }
  cv_.notify_all();
}

void InputStream::push(StreamData d) {
  { std::lock_guard l(m_); items_.push_back(std::move(d)); }
  cv_.notify_all();
}

void InputStream::end() {
  { std::lock_guard l(m_); ended_ = true; }
  cv_.notify_all();
}

void InputStream::abort(std::string why) {
  { std::lock_guard l(m_); aborted_ = std::move(why); }
  cv_.notify_all();
}

std::optional<StreamData> InputStream::next() {
  std::unique_lock l(m_);
  cv_.wait(l, [&] { return !items_.empty() || ended_ || aborted_; });
  if (!items_.empty()) {
    StreamData d = std::move(items_.front());
    items_.pop_front();
    return d;
  }
  if (aborted_) throw std::runtime_error(*aborted_);
  return std::nullopt;
}

}  // namespace prov::plugin
