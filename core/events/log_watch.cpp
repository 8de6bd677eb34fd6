#include "core/events/log_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace prov {

LogWatch::LogWatch() : inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

LogWatch::~LogWatch() {
  if (inotify_ >= 0) ::close(inotify_);
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool LogWatch::watch_dir(const std::string& dir) {
  if (inotify_ < 0) return false;
  return ::inotify_add_watch(inotify_, dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) >= 0;
}

bool LogWatch::watch_process(pid_t pid) {
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
#ifdef SYS_pidfd_open
  if (pid > 0) pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  return pidfd_ >= 0;
}

bool LogWatch::wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds) {
  std::vector<pollfd> set;
  if (inotify_ >= 0) set.push_back({inotify_, POLLIN, 0});
  if (pidfd_ >= 0) set.push_back({pidfd_, POLLIN, 0});
  for (int fd : fds)
    if (fd >= 0) set.push_back({fd, POLLIN, 0});
  int rc;
  do {
    rc = ::poll(set.data(), set.size(), static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc <= 0) return false;
  if (inotify_ >= 0 && (set[0].revents & POLLIN)) {
    alignas(inotify_event) char buf[4096];
    while (::read(inotify_, buf, sizeof buf) > 0) {
    }
  }
  // An ended process stays readable: it has woken its waiter once, and is watched no more.
  if (pidfd_ >= 0 && (set[inotify_ >= 0 ? 1 : 0].revents & (POLLIN | POLLHUP))) {
    ::close(pidfd_);
    pidfd_ = -1;
  }
  return true;
}

}  // namespace prov
