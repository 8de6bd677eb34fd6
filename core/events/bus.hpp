#pragma once
/// The in-process event bus: publishers hand events to every current subscriber, in order,
/// one event at a time (a subscriber never sees two events at once or out of order).

#include <functional>
#include <mutex>
#include <vector>

#include "core/events/event.hpp"

namespace prov {

class EventBus {
 public:
  using Handler = std::function<void(const Event&)>;
  /// Registers `h`; returns a handle for unsubscribe().
  size_t subscribe(Handler h);
  void unsubscribe(size_t handle);
  /// Delivers `e` to every subscriber before returning. A subscriber that throws is skipped
  /// for this event; the others still receive it.
  void publish(const Event& e);

 private:
  std::mutex m_;  ///< held while delivering: keeps deliveries in publish order
  std::vector<std::pair<size_t, Handler>> handlers_;
  size_t next_ = 1;
};

}  // namespace prov
