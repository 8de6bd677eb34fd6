#include "plugin/commands/progress_line.hpp"

#include <unistd.h>

namespace prov::plugin {

namespace {
// Carriage return, then erase the whole line (ECMA-48 EL 2).
constexpr const char* kClear = "\r\x1b[2K";

void write_stderr(const std::string& s) {
  // One write: the line never interleaves with another writer's bytes.
  for (size_t off = 0; off < s.size();) {
    ssize_t n = ::write(STDERR_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}
}  // namespace

bool ProgressLine::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressLine::draw(const std::string& text) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  shown_ = true;
  write_stderr(kClear + text);
}

void ProgressLine::clear() {
  if (!enabled_ || !shown_) return;
  shown_ = false;
  write_stderr(kClear);
}

}  // namespace prov::plugin
