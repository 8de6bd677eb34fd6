#pragma once
/// Keeps Nushell's plugin garbage collector from stopping this plugin while it holds state worth
/// keeping (live cache entries, warm provider workers), and lets it go again once that state has
/// expired, so that an idle plugin still ends: the protocol's `GcDisabled` option, sent only
/// when the answer changes.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace prov::plugin {

class GcHold {
 public:
  using Clock = std::chrono::steady_clock;
  /// Until when a piece of state is worth keeping; nullopt when it holds nothing.
  using Source = std::function<std::optional<Clock::time_point>()>;

  /// `send(disabled)` writes the GcDisabled option to the engine.
  explicit GcHold(std::function<void(bool)> send);
  /// Stops the timer thread (sends nothing).
  ~GcHold();
  GcHold(const GcHold&) = delete;
  GcHold& operator=(const GcHold&) = delete;

  /// Adds a kind of state to keep. Sources are asked on refresh and when a deadline passes.
  void add_source(Source source);
  /// Asks every source: while one holds state past now, the engine's GC stays disabled until the
  /// latest deadline; when that passes and no source holds anything newer, or when a refresh finds
  /// nothing held any more, it is enabled again.
  /// Call it after each call, before its answer goes out.
  void refresh();
  /// True while the engine has been told not to stop this plugin.
  bool held() const;

 private:
  std::optional<Clock::time_point> deadline() const;  ///< requires m_
  void timer();

  std::function<void(bool)> send_;
  mutable std::mutex m_;  ///< guards everything below
  std::condition_variable cv_;
  std::vector<Source> sources_;
  bool held_ = false;          ///< GcDisabled(true) was the last option sent
  Clock::time_point until_{};  ///< when the timer asks the sources again (while held_)
  bool stopping_ = false;
  std::thread thread_;  ///< started with the first hold
};

}  // namespace prov::plugin
