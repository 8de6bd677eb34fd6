#include "core/support/process.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "core/support/spawn.hpp"

namespace prov {

ProcessOutput run_captured(const std::vector<std::string>& argv) {
  Pipe out = make_pipe(), err = make_pipe();
  SpawnSpec spec;
  spec.argv = argv;
  spec.out = Redirect::fd(out.write.get());
  spec.err = Redirect::fd(err.write.get());
  Child child = spawn(spec);
  out.write.reset();
  err.write.reset();

  // Read both pipes together so that neither can fill up and stall the child.
  ProcessOutput result;
  pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // poll ignores negative descriptors; the Pipe closes the real one
        --open_fds;
      }
    }
  }

  result.exit_code = child.wait().exit_code();
  return result;
}

}  // namespace prov
