#include "core/events/bus.hpp"

#include <algorithm>

namespace prov {

size_t EventBus::subscribe(Handler h) {
  std::lock_guard l(m_);
  handlers_.emplace_back(next_, std::move(h));
  return next_++;
}

void EventBus::unsubscribe(size_t handle) {
  std::lock_guard l(m_);
  handlers_.erase(std::remove_if(handlers_.begin(), handlers_.end(), [&](const auto& p) { return p.first == handle; }),
                  handlers_.end());
}

void EventBus::publish(const Event& e) {
  std::lock_guard l(m_);
  for (auto& [id, h] : handlers_) {
    try {
      h(e);
    } catch (...) {
      // One failing subscriber must not starve the others.
    }
  }
}

}  // namespace prov
