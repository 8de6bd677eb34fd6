#include "core/events/log_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/support/proc_stat.hpp"

namespace prov {

LogWatch::LogWatch() : inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

bool LogWatch::watch_dir(const std::string& dir) {
  if (!inotify_) return false;
  return ::inotify_add_watch(inotify_.get(), dir.c_str(),
                             IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) >= 0;
}

bool LogWatch::watch_process(pid_t pid) {
  pidfd_ = open_pidfd(pid);
  return static_cast<bool>(pidfd_);
}

bool LogWatch::wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds) {
  std::vector<pollfd> set;
  if (inotify_) set.push_back({inotify_.get(), POLLIN, 0});
  if (pidfd_) set.push_back({pidfd_.get(), POLLIN, 0});
  for (int fd : fds)
    if (fd >= 0) set.push_back({fd, POLLIN, 0});
  int rc;
  do {
    rc = ::poll(set.data(), set.size(), static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc <= 0) return false;
  if (inotify_ && (set[0].revents & POLLIN)) {
    alignas(inotify_event) char buf[4096];
    while (::read(inotify_.get(), buf, sizeof buf) > 0) {
    }
  }
  // An ended process stays readable: it has woken its waiter once, and is watched no more.
  if (pidfd_ && (set[inotify_ ? 1 : 0].revents & (POLLIN | POLLHUP))) pidfd_.reset();
  return true;
}

}  // namespace prov
