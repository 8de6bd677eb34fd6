#include "core/support/daemon.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/support/subprocess.hpp"

namespace prov {

int launch_detached(const std::vector<std::string>& argv, const std::string& log_path, char* const* envp,
                    int ready_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (ready_fd >= 0) posix_spawn_file_actions_adddup2(&fa, ready_fd, kReadyFd);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  set_default_signals(&attr);
  std::vector<char*> args = to_exec_array(argv);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv.at(0).c_str(), &fa, &attr, args.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return rc;
  // The program forks and lets this child exit at once; reap it so no zombie stays behind.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return 0;
}

bool detach(bool keep_ready_fd) {
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child > 0) ::_exit(0);
  ::setsid();
#ifdef SYS_close_range
  ::syscall(SYS_close_range, keep_ready_fd ? 4u : 3u, ~0u, 0u);
#endif
  return true;
}

}  // namespace prov
