#include "core/support/process_record.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

namespace prov {

namespace {

/// The start time of `pid` (field 22 of /proc/<pid>/stat), or 0 when it does not run.
unsigned long long start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  return 0;
}

bool group_alive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

}  // namespace

void record_process(const std::string& path, pid_t pid) {
  const unsigned long long started = start_time(pid);
  if (started == 0) return;  // already gone
  const std::string text = std::to_string(pid) + " " + std::to_string(started) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  [[maybe_unused]] const ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

void forget_process(const std::string& path) { ::unlink(path.c_str()); }

std::vector<std::string> stop_recorded_processes(const std::string& dir, std::chrono::milliseconds grace) {
  std::vector<std::string> names;
  std::vector<pid_t> groups;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string path = dir + "/" + name;
      std::ifstream in(path);
      long long pid = 0;
      unsigned long long started = 0;
      if (in >> pid >> started && pid > 1 && started != 0 && start_time(static_cast<pid_t>(pid)) == started) {
        ::kill(-static_cast<pid_t>(pid), SIGTERM);
        groups.push_back(static_cast<pid_t>(pid));
        names.push_back(name);
      }
      ::unlink(path.c_str());
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
