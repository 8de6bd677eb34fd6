#pragma once
/// The engine's Ctrl-C, as the plugin sees it: Interrupt sets the flag for every running call,
/// Reset clears it. The core's cancellation token, under the protocol's names.

#include "core/support/cancel.hpp"

namespace prov::plugin {

class Signals : public prov::CancelToken {
 public:
  void interrupt() { cancel(); }
  bool interrupted() const { return cancelled(); }
  /// Sleeps up to `d`; returns true early when interrupted.
  template <typename Rep, typename Period>
  bool sleep_for(std::chrono::duration<Rep, Period> d) {
    return wait_for(d);
  }
};

}  // namespace prov::plugin
