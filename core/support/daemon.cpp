#include "core/support/daemon.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace prov {

void launch_detached(const SpawnSpec& spec) { spawn(spec).wait(); }

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
