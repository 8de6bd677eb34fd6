#include "core/support/process_record.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <thread>

#include "core/support/proc_stat.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

namespace {

/// The start time of `pid` in clock ticks after boot, or 0 when it does not run.
unsigned long long start_time(pid_t pid) {
  const auto st = read_proc_stat(pid);
  return st ? st->start_ticks : 0;
}

bool group_alive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

/// The record `name` in `dir_fd`, read without following a link; "" when it cannot be.
std::string read_record(int dir_fd, const std::string& name) {
  const UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return {};
  std::string text;
  char buf[8192];
  ssize_t n;
  while (text.size() < 64 * 1024 && (n = ::read(fd.get(), buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  return text;
}

/// Whether `text`, a record, names a process that runs now as recorded; its pid in `pid`.
bool still_runs(const std::string& text, pid_t& pid) {
  std::istringstream in(text);
  long long p = 0;
  unsigned long long started = 0;
  if (!(in >> p >> started) || p <= 1 || started == 0 || in.get() != ' ') return false;
  std::string exe((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!exe.empty() && exe.back() == '\n') exe.pop_back();
  pid = static_cast<pid_t>(p);
  return !exe.empty() && start_time(pid) == started && process_executable(pid) == exe;
}

}  // namespace

void record_process(int dir_fd, const std::string& name, pid_t pid) {
  const unsigned long long started = start_time(pid);
  const std::string exe = process_executable(pid);
  if (started == 0 || exe.empty()) return;  // already gone
  const std::string text = std::to_string(pid) + " " + std::to_string(started) + " " + exe + "\n";
  const UniqueFd fd(
      ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd) return;
  [[maybe_unused]] const ssize_t n = ::write(fd.get(), text.data(), text.size());
}

void forget_process(int dir_fd, const std::string& name) { ::unlinkat(dir_fd, name.c_str(), 0); }

std::vector<std::string> stop_recorded_processes(int dir_fd, std::chrono::milliseconds grace) {
  std::vector<std::string> names;
  std::vector<pid_t> groups;
  UniqueFd dup(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (DIR* d = dup ? ::fdopendir(dup.get()) : nullptr) {
    dup.release();  // the DIR owns it now
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      pid_t pid = 0;
      if (still_runs(read_record(dir_fd, name), pid)) {
        ::kill(-pid, SIGTERM);
        groups.push_back(pid);
        names.push_back(name);
      }
      ::unlinkat(dir_fd, name.c_str(), 0);
    }
    ::closedir(d);
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (pid_t g : groups) {
    while (group_alive(g) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (group_alive(g)) ::kill(-g, SIGKILL);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace prov
