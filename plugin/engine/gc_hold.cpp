#include "plugin/engine/gc_hold.hpp"

namespace prov::plugin {

GcHold::GcHold(std::function<void(bool)> send) : send_(std::move(send)) {}

GcHold::~GcHold() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GcHold::add_source(Source source) {
  std::lock_guard lock(m_);
  sources_.push_back(std::move(source));
}

bool GcHold::held() const {
  std::lock_guard lock(m_);
  return held_;
}

std::optional<GcHold::Clock::time_point> GcHold::deadline() const {
  std::optional<Clock::time_point> latest;
  for (const auto& s : sources_)
    if (auto t = s(); t && (!latest || *t > *latest)) latest = t;
  if (latest && *latest <= Clock::now()) return std::nullopt;
  return latest;
}

void GcHold::refresh() {
  std::unique_lock lock(m_);
  if (stopping_) return;
  const auto until = deadline();
  if (!until) {  // nothing to keep (the cache was cleared, say): let go now
    if (held_) {
      held_ = false;
      send_(false);
      cv_.notify_all();
    }
    return;
  }
  until_ = std::max(until_, *until);
  if (!held_) {
    held_ = true;
    send_(true);
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { timer(); });
  cv_.notify_all();
}

void GcHold::timer() {
  std::unique_lock lock(m_);
  while (!stopping_) {
    if (!held_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, until_) == std::cv_status::no_timeout) continue;
    if (Clock::now() < until_) continue;
    if (auto later = deadline()) {
      until_ = *later;
      continue;
    }
    held_ = false;
    try {
      send_(false);
    } catch (...) {
      return;  // the engine is gone
    }
  }
}

}  // namespace prov::plugin
