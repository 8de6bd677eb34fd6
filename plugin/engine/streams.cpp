#include "plugin/engine/streams.hpp"

#include <chrono>
#include <stdexcept>

namespace prov::plugin {

bool OutputStream::wait_for_credit(const std::function<bool()>& stop) {
  std::unique_lock l(m_);
  while (true) {
    if (dropped_) return false;
    if (stop && stop()) return false;
    if (unacked_ < window_) return true;
    // Re-check `stop` now and then: signals and shutdown are not tied to this condvar.
    cv_.wait_for(l, std::chrono::milliseconds(50));
  }
}

void OutputStream::ack() {
  { std::lock_guard l(m_); if (unacked_ > 0) --unacked_; }
  cv_.notify_all();
}

void OutputStream::drop() {
  { std::lock_guard l(m_); dropped_ = true; }
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
