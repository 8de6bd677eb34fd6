#include "core/state/state_dir.hpp"

#include <fcntl.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>
#include <system_error>

#include "core/state/file_io.hpp"
#include "core/state/state_name.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace fs = std::filesystem;

namespace {

ResourceError unsafe(const std::string& path, const std::string& why) {
  return ResourceError("provisioning::state::unsafe_path",
                       "the state directory " + path + " " + why,
                       "point paths.state at a directory inside the workspace, or remove the link");
}

/// True when `child` is `parent` or lies below it (both absolute and normalised).
bool is_within(const fs::path& child, const fs::path& parent) {
  const fs::path rel = child.lexically_relative(parent);
  return !rel.empty() && *rel.begin() != "..";
}

/// Creates directory `dir` with exactly 0700 unless it exists; returns whether it made it.
/// Something there that is not a directory (a symlink included) is refused.
bool make_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (::chmod(dir.c_str(), 0700) != 0) throw io_error("set the mode of", dir, errno);
    return true;
  }
  if (errno != EEXIST) throw io_error("create the directory", dir, errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw io_error("inspect", dir, errno);
  if (!S_ISDIR(st.st_mode))
    throw ResourceError(
        "provisioning::state::unsafe_path",
        dir + " is not a directory (" + (S_ISLNK(st.st_mode) ? "a symbolic link" : "a file") + ")",
        "remove it: the state directory keeps only what it made");
  return false;
}

/// Whether `dir` is a directory itself, not a symlink to one.
bool is_real_dir(const std::string& dir) {
  struct stat st {};
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string new_workflow_id(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::random_device rd;
  char id[48];
  std::snprintf(id, sizeof id, "wf-%s-%06x", stamp, static_cast<unsigned>(rd() & 0xffffff));
  return id;
}

WorkflowError unknown_workflow_id(const std::string& id, const std::vector<std::string>& ids, const std::string& where) {
  const std::vector<std::string> near = nearest_names(id, ids);
  std::string help;
  if (!near.empty())
    help = "did you mean " + join_alternatives(near) + "?";
  else if (ids.empty())
    help = "no workflow has run in this workspace yet";
  else
    help = "`prov workflow list` shows the workflows of this workspace";
  return WorkflowError("provisioning::workflow::unknown_id",
                       is_workflow_id(id) ? "there is no workflow " + id + " in " + where
                                          : "'" + id + "' is not a workflow id (they look like wf-20261126-203000-1a2b3c)",
                       help);
}

bool is_workflow_id(std::string_view id) {
  static constexpr std::string_view shape = "wf-dddddddd-dddddd-xxxxxx";
  if (id.size() != shape.size()) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    switch (shape[i]) {
      case 'd':
        if (c < '0' || c > '9') return false;
        break;
      case 'x':
        if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) return false;
        break;
      default:
        if (c != shape[i]) return false;
    }
  }
  return true;
}

StateDir StateDir::open(const std::string& path, const std::string& workspace_root) {
  std::string dir = fs::path(path).lexically_normal().string();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const fs::path p(dir);
  if (!p.is_absolute()) throw unsafe(path, "is not an absolute path");
  std::error_code ec;
  const fs::path ws = fs::canonical(workspace_root, ec);
  if (ec) throw io_error("resolve the workspace", workspace_root, ec.value());
  const bool inside = is_within(p, fs::path(workspace_root).lexically_normal()) || is_within(p, ws);

  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode) || inside) {
      const fs::path real = fs::canonical(p, ec);
      if (ec) throw unsafe(dir, "is a symbolic link to nothing");
      if (!is_within(real, ws))
        throw unsafe(dir,
                     "leads out of the workspace " + ws.string() + " (to " + real.string() + ")");
    }
    if (!fs::is_directory(p, ec)) throw unsafe(dir, "is not a directory");
    return StateDir(dir);
  }
  if (errno != ENOENT) throw io_error("inspect", dir, errno);
  if (inside) {
    const fs::path real = fs::weakly_canonical(p, ec);
    if (ec || !is_within(real, ws))
      throw unsafe(dir,
                   "leads out of the workspace " + ws.string() + " (to " + real.string() + ")");
  }
  // Create the missing directories from the top, then make each new entry durable.
  std::vector<fs::path> missing;
  for (fs::path q = p; !q.empty() && q != q.root_path() && !fs::exists(fs::symlink_status(q, ec));
       q = q.parent_path())
    missing.push_back(q);
  std::reverse(missing.begin(), missing.end());
  for (const fs::path& q : missing)
    if (make_private_dir(q.string())) sync_directory(q.parent_path().string());
  return StateDir(dir);
}

std::string StateDir::create_workflow() const {
  if (make_private_dir(workflows_dir())) sync_directory(path_);
  std::string id;
  for (int attempt = 0;; ++attempt) {
    id = new_workflow_id();
    if (make_private_dir(workflow_dir(id))) break;
    if (attempt == 100) throw io_error("find a free workflow id in", workflows_dir(), EEXIST);
  }
  make_private_dir(logs_dir(id));
  sync_directory(workflow_dir(id));
  sync_directory(workflows_dir());
  return id;
}

std::optional<ResourceError> StateDir::storage_problem(uint64_t min_free) const {
  struct statvfs fs {};
  if (::statvfs(path_.c_str(), &fs) != 0) return std::nullopt;
  if (fs.f_flag & ST_RDONLY)
    return io_error("write to the state directory", path_, EROFS);
  const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes < min_free || (fs.f_files > 0 && fs.f_favail == 0))
    return ResourceError("provisioning::state::disk_full",
                         "the state directory " + path_ + " is full (" + std::to_string(free_bytes) +
                             " bytes free)",
                         io_error("write", path_, ENOSPC).help());
  return std::nullopt;
}

std::vector<std::string> StateDir::list_workflows() const {
  std::vector<std::string> ids;
  const std::string dir = workflows_dir();
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return ids;
    throw io_error("inspect", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) throw unsafe(path_, "holds a workflows entry that is not a directory");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!is_workflow_id(name) || !is_real_dir(entry.path().string())) continue;
    // A workflow exists from the moment its journal does (linked into place whole): a folder
    // without one is a submit in progress, or one that failed, and nothing to show.
    struct stat js {};
    if (::lstat(journal_path(name).c_str(), &js) == 0) ids.push_back(name);
  }
  if (ec) throw io_error("list", dir, ec.value());
  std::sort(ids.begin(), ids.end(), std::greater<>());
  return ids;
}

void StateDir::check_workflow_id(const std::string& id) const {
  const bool well_formed = is_workflow_id(id);
  if (well_formed && is_real_dir(workflow_dir(id))) return;
  throw unknown_workflow_id(id, list_workflows(), path_);
}

std::string StateDir::operation_log_path(const std::string& id, const std::string& op) const {
  return logs_dir(id) + "/" + operation_log_name(op);
}

std::string StateDir::process_record_path(const std::string& id, const std::string& op) const {
  return running_dir(id) + "/" + state_file_name(op);
}

SafeDir StateDir::open_workflow(const std::string& id) const {
  if (!is_workflow_id(id)) throw unsafe_state_path(workflows_dir() + "/" + id, "not a workflow's folder");
  return SafeDir::open(path_).sub("workflows").sub(id);
}

void StateDir::check_workflow_files(const std::string& id) const {
  const SafeDir folder = open_workflow(id);
  folder.check_entries(false);
  for (const char* name : {"logs", "running", "undo"})
    if (std::optional<SafeDir> d = folder.find(name)) d->check_entries(true);
}

std::string StateDir::read_operation_log(const std::string& id, const std::string& op) const {
  const std::optional<SafeDir> logs = open_workflow(id).find("logs");
  if (!logs) return {};
  return logs->read_file(operation_log_name(op)).value_or(std::string());
}

UniqueFd StateDir::open_operation_log(const std::string& id, const std::string& op) const {
  const std::optional<SafeDir> logs = open_workflow(id).find("logs");
  if (!logs) return {};
  return logs->open_file(operation_log_name(op), O_RDONLY | O_CLOEXEC, 0, true);
}

FileLock StateDir::lock_workspace(std::chrono::milliseconds timeout) const {
  return FileLock::acquire(workspace_lock_path(), "the workspace state " + path_, timeout);
}

FileLock StateDir::lock_runner(const std::string& id, std::chrono::milliseconds timeout) const {
  return FileLock::acquire(runner_lock_path(id), "workflow " + id, timeout);
}

}  // namespace prov
