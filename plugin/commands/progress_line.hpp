#pragma once
/// One status line on the terminal Nu runs in (the plugin's stderr, which
/// Nushell leaves to the plugin): redrawn in place at most ten times a second,
/// and cleared before stream items go out and at the end, so that Nu's own
/// output never starts in the middle of it. Silent when stderr is not a
/// terminal.

#include <chrono>
#include <string>

namespace prov::plugin {

class ProgressLine {
 public:
  /// `enabled`: draw at all (false when stderr is not a terminal, or nobody
  /// wants the line).
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  ~ProgressLine() { clear(); }

  /// True when stderr is a terminal.
  static bool stderr_is_terminal();

  /// Draws `text` in place of the line shown, unless one was drawn less than
  /// 100 ms ago.
  void draw(const std::string& text);
  /// Removes the line, if one is shown.
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;  ///< a line is on the terminal now
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace prov::plugin
