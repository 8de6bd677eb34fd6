#pragma once
/// The one owner of a file descriptor in this program: whatever opens a descriptor and must
/// close it holds it in a UniqueFd.

namespace prov {

/// An open file descriptor, closed when this goes away. -1 means none. Moves, never copies.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  /// Gives up ownership; returns the descriptor (-1 when none).
  int release();
  /// Closes the descriptor held, if any, and holds `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;  ///< owned, or -1
};

}  // namespace prov
