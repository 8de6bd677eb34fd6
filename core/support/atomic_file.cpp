#include "core/support/atomic_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/support/error.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

namespace {

ResourceError write_error(const std::string& path, const std::string& what, int err) {
  return ResourceError("provisioning::resource::write",
                       "cannot " + what + " " + path + ": " + std::strerror(err),
                       "check that the directory exists, is writable and has space");
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void sync_directory(const std::string& dir) {
  const UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0 || ::fsync(d.get()) != 0) throw write_error(dir, "sync the directory", errno);
}

}  // namespace

std::optional<FileContent> read_regular_file(const std::string& path, Links links, std::string& why) {
  why.clear();
  const int flags = O_RDONLY | O_CLOEXEC | (links == Links::refuse ? O_NOFOLLOW | O_NONBLOCK : 0);
  const UniqueFd f(::open(path.c_str(), flags));
  if (f.get() < 0) {
    if (errno == ENOENT || (links == Links::follow && errno == ENOTDIR)) return std::nullopt;
    why = links == Links::refuse && errno == ELOOP ? "it is a symbolic link" : std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return std::nullopt;
  }
  FileContent content;
  content.mode = st.st_mode & 07777;
  content.data.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n > 0) {
      content.data.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return content;
    } else if (errno != EINTR) {
      why = std::strerror(errno);
      return std::nullopt;
    }
  }
}

std::optional<FileContent> read_file_if_exists(const std::string& path) {
  std::string why;
  std::optional<FileContent> content = read_regular_file(path, Links::refuse, why);
  if (!why.empty())
    throw ResourceError("provisioning::resource::read", "cannot read " + path + ": " + why,
                        "check that it is a readable regular file");
  return content;
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  const std::string dir = parent_of(path);
  const std::string name = path.substr(path.rfind('/') + 1);
  std::string pattern = dir + "/." + name + ".tmp-XXXXXX";
  std::vector<char> tmp(pattern.begin(), pattern.end());
  tmp.push_back('\0');
  const UniqueFd f(::mkostemp(tmp.data(), O_CLOEXEC));
  if (f.get() < 0) throw write_error(path, "create a temporary file beside", errno);
  const std::string tmp_path = tmp.data();
  auto fail = [&](const char* what) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    return write_error(path, what, err);
  };
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(f.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(f.get(), mode & 07777) != 0) throw fail("set the mode of");
  if (::fsync(f.get()) != 0) throw fail("sync");
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) throw fail("replace");
  sync_directory(dir);
}

void remove_file_durable(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return;
    throw write_error(path, "remove", errno);
  }
  sync_directory(parent_of(path));
}

}  // namespace prov
