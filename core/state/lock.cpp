#include "core/state/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "core/support/error.hpp"

namespace prov {

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    fd_ = std::move(o.fd_);
  }
  return *this;
}

namespace {
/// Opens the lock file at `path` with `flags`, never through a symlink (ResourceError
/// `provisioning::state::unsafe_path`). A missing file gives an empty UniqueFd; other errors throw.
UniqueFd open_lock_file(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
  if (fd || errno == ENOENT) return fd;
  if (errno == ELOOP)
    throw ResourceError("provisioning::state::unsafe_path",
                        "the lock file " + path + " is a symbolic link; state files are never followed through links",
                        "remove the link");
  throw io_error("open the lock file", path, errno);
}
}  // namespace

std::optional<FileLock> FileLock::try_acquire(const std::string& path) {
  UniqueFd fd = open_lock_file(path, O_RDWR | O_CREAT);
  if (!fd) throw io_error("open the lock file", path, ENOENT);  // its folder is gone
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw io_error("inspect", path, errno);
  if (!S_ISREG(st.st_mode))
    throw ResourceError("provisioning::state::unsafe_path",
                        "the lock file " + path + " is not a regular file",
                        "remove whatever is there");
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    if (errno != EINTR) throw io_error("lock", path, errno);
  }
  // Only messages depend on the pid, so failing to record it is no reason to fail.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
  }
  return FileLock(path, std::move(fd));
}

FileLock FileLock::acquire(const std::string& path, const std::string& what,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (auto lock = try_acquire(path)) return std::move(*lock);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  const auto pid = holder_pid(path);
  throw ResourceError(
      "provisioning::state::locked",
      what + " is locked by " +
          (pid ? "process " + std::to_string(*pid) : std::string("another process")) + " (" + path +
          ")",
      "another Nu session is using it; wait until it is done (the lock goes "
      "when that process ends)");
}

bool FileLock::is_held(const std::string& path) {
  const UniqueFd fd = open_lock_file(path, O_RDONLY);
  if (!fd) return false;
  // A shared lock is refused exactly while someone holds the exclusive one; it is let go at once.
  while (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return true;
    if (errno != EINTR) throw io_error("lock", path, errno);
  }
  return false;
}

std::optional<int64_t> FileLock::holder_pid(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return std::nullopt;
  char buf[32];
  const ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
  if (n <= 0) return std::nullopt;
  int64_t pid = 0;
  ssize_t i = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9' && i < 18; ++i) pid = pid * 10 + (buf[i] - '0');
  if (i == 0 || i >= n || buf[i] != '\n' || pid <= 0) return std::nullopt;
  return pid;
}

void FileLock::release() {
  if (!fd_) return;
  // Clear the pid while still holding the lock, so that no message names a past holder.
  if (::ftruncate(fd_.get(), 0) != 0) {
  }
  fd_ = UniqueFd();  // closing the file lets go of the flock
}

}  // namespace prov
