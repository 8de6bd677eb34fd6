#include "core/state/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/support/error.hpp"

namespace prov {

ResourceError io_error(const std::string& what, const std::string& path, int err) {
  const std::string msg = "cannot " + what + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT)
    return ResourceError("provisioning::state::disk_full", msg,
                         "free space (or quota) on the file system holding " + path +
                             "; then `prov workflow resume` continues an interrupted workflow");
  if (err == EROFS)
    return ResourceError("provisioning::state::read_only", msg,
                         "the file system holding " + path +
                             " is read-only: remount it read-write or set paths.state to a writable folder");
  return ResourceError("provisioning::state::io", msg,
                       "check that the state directory exists, is writable and has space");
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string read_all(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw io_error("inspect", path, errno);
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("read", path, errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

void sync_directory(const std::string& dir) {
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw io_error("open the directory", dir, errno);
  if (::fsync(d.get()) != 0) throw io_error("sync the directory", dir, errno);
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace prov
