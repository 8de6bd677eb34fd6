#include "core/state/safe_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

namespace prov {

namespace {

std::string kind_of(mode_t m) {
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISREG(m)) return "a file";
  return "neither a file nor a directory";
}

}  // namespace

ResourceError unsafe_state_path(const std::string& path, const std::string& what) {
  return ResourceError("provisioning::state::unsafe_path", "the state directory's entry " + path + " is " + what,
                       "remove it: the state directory keeps only what it made, and follows no link");
}

SafeDir SafeDir::open(const std::string& path, bool create) {
  if (create && ::mkdir(path.c_str(), 0700) == 0 && ::chmod(path.c_str(), 0700) != 0)
    throw io_error("set the mode of", path, errno);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR) throw unsafe_state_path(path, "not a directory");
    throw io_error("open the directory", path, errno);
  }
  return SafeDir(std::move(fd), path);
}

std::optional<SafeDir> SafeDir::find(const std::string& name, bool create) const {
  const std::string path = path_ + "/" + name;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw unsafe_state_path(path, "not a name of an entry");
  if (create) {
    if (::mkdirat(fd(), name.c_str(), 0700) == 0) {
      if (::fchmodat(fd(), name.c_str(), 0700, 0) != 0) throw io_error("set the mode of", path, errno);
    } else if (errno != EEXIST) {
      throw io_error("create the directory", path, errno);
    }
  }
  UniqueFd d(::openat(fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) {
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    struct stat st {};
    if ((err == ELOOP || err == ENOTDIR) && ::fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      throw unsafe_state_path(path, kind_of(st.st_mode) + ", not a directory");
    throw io_error("open the directory", path, err);
  }
  return SafeDir(std::move(d), path);
}

SafeDir SafeDir::sub(const std::string& name, bool create) const {
  std::optional<SafeDir> d = find(name, create);
  if (!d) throw io_error("open the directory", path_ + "/" + name, ENOENT);
  return std::move(*d);
}

UniqueFd SafeDir::open_file(const std::string& name, int flags, unsigned mode, bool missing_ok) const {
  const std::string path = path_ + "/" + name;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw unsafe_state_path(path, "not a name of a file");
  // O_NONBLOCK: a FIFO put here must not hang the opener; cleared below for a regular file.
  UniqueFd f(::openat(fd(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode));
  if (!f) {
    const int err = errno;
    if (err == ENOENT && missing_ok) return f;
    if (err == ELOOP) throw unsafe_state_path(path, "a symbolic link");
    if (err == EISDIR) throw unsafe_state_path(path, "a directory, not a file");
    throw io_error("open", path, err);
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) throw io_error("inspect", path, errno);
  if (!S_ISREG(st.st_mode)) throw unsafe_state_path(path, kind_of(st.st_mode) + ", not a file");
  ::fcntl(f.get(), F_SETFL, ::fcntl(f.get(), F_GETFL) & ~O_NONBLOCK);
  if ((flags & O_CREAT) && (st.st_mode & 07777) != mode) ::fchmod(f.get(), mode);
  return f;
}

std::optional<std::string> SafeDir::read_file(const std::string& name) const {
  UniqueFd f = open_file(name, O_RDONLY, 0, true);
  if (!f) return std::nullopt;
  return read_all(f.get(), path_ + "/" + name);
}

void SafeDir::write_file_atomic(const std::string& name, const std::string& data, unsigned mode) const {
  std::random_device rd;
  std::string tmp;
  UniqueFd f;
  for (int attempt = 0; !f; ++attempt) {
    tmp = "." + name + ".tmp-" + std::to_string(rd() % 1000000);
    f = UniqueFd(::openat(fd(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!f && (errno != EEXIST || attempt == 100)) throw io_error("create", path_ + "/" + tmp, errno);
  }
  try {
    if (::fchmod(f.get(), mode) != 0) throw io_error("set the mode of", path_ + "/" + tmp, errno);
    write_all(f.get(), data, path_ + "/" + tmp);
    if (::fsync(f.get()) != 0) throw io_error("sync", path_ + "/" + tmp, errno);
    if (::renameat(fd(), tmp.c_str(), fd(), name.c_str()) != 0) throw io_error("replace", path_ + "/" + name, errno);
  } catch (...) {
    ::unlinkat(fd(), tmp.c_str(), 0);
    throw;
  }
  if (::fsync(fd()) != 0) throw io_error("sync the directory", path_, errno);
}

void SafeDir::remove(const std::string& name) const {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) return;
  if (::unlinkat(fd(), name.c_str(), 0) != 0 && errno != ENOENT) throw io_error("remove", path_ + "/" + name, errno);
}

std::vector<std::string> SafeDir::names() const {
  std::vector<std::string> out;
  const int dup = ::openat(fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) throw io_error("list", path_, errno);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    const int err = errno;
    ::close(dup);
    throw io_error("list", path_, err);
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

void SafeDir::check_entries(bool files_only) const {
  for (const std::string& name : names()) {
    struct stat st {};
    if (::fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if (S_ISLNK(st.st_mode)) throw unsafe_state_path(path_ + "/" + name, "a symbolic link");
    if (files_only && !S_ISREG(st.st_mode) && !S_ISSOCK(st.st_mode))
      throw unsafe_state_path(path_ + "/" + name, kind_of(st.st_mode) + ", not a file");
  }
}

}  // namespace prov
