#include "core/ops/workspace_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/support/error.hpp"

namespace prov {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void outside(const std::string& path, const std::string& why) {
  throw WorkflowError("provisioning::operation::path_outside_workspace",
                      "the path " + path + " " + why,
                      "name a file inside the workspace, relative to its root", Blame::input());
}

bool inside(const fs::path& p, const fs::path& root) {
  const std::string r = root.string(), s = p.string();
  return r == "/" || s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

/// `norm` relative to `base` when it lies below it; empty otherwise.
fs::path below(const fs::path& norm, const fs::path& base) {
  fs::path rel = norm.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return {};
  return rel;
}

}  // namespace

WorkspacePath resolve_in_workspace(const std::string& workspace, const std::string& path) {
  std::error_code ec;
  const fs::path root = fs::canonical(workspace.empty() ? "." : workspace, ec);
  if (ec)
    throw ResourceError("provisioning::resource::read",
                        "cannot use the workspace " + workspace + ": " + ec.message(),
                        "check that the workspace directory exists");
  if (path.empty()) outside(path, "is empty");

  const fs::path given = fs::path(path).lexically_normal();
  fs::path rel = given;
  if (given.is_absolute()) {
    rel = below(given, fs::path(workspace).lexically_normal());
    if (rel.empty()) rel = below(given, root);
    if (rel.empty()) outside(path, "is outside the workspace " + root.string());
  }
  if (rel.empty() || *rel.begin() == ".." || rel == ".")
    outside(path, "leaves the workspace " + root.string());
  if (!rel.has_filename()) outside(path, "names a directory, not a file");

  // Directories on the way that exist already must stay inside once symlinks are followed;
  // the ones that do not exist yet will be created as real directories.
  fs::path cur = root;
  for (const fs::path& member : rel.parent_path()) {
    cur /= member;
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) break;
    const fs::path real = fs::canonical(cur, ec);
    if (ec || !inside(real, root))
      outside(path, "leads out of the workspace through the symbolic link " + cur.string());
    if (!fs::is_directory(real)) outside(path, "goes through " + cur.string() + ", which is not a directory");
    cur = real;
  }
  return {root.string(), rel.string(), (root / rel).string()};
}

std::vector<std::string> create_parent_dirs(const WorkspacePath& p) {
  std::vector<std::string> created;
  fs::path rel;
  for (const fs::path& member : fs::path(p.relative).parent_path()) {
    rel /= member;
    const fs::path dir = fs::path(p.root) / rel;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      created.push_back(rel.string());
    } else if (errno != EEXIST) {
      throw ResourceError("provisioning::resource::write",
                          "cannot create the directory " + dir.string() + ": " + std::strerror(errno),
                          "check that the workspace is writable");
    }
  }
  return created;
}

void remove_created_dirs(const std::string& root, const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const fs::path rel(*it);
    // Journaled names come back from disk: only ever remove inside the root.
    if (rel.empty() || rel.is_absolute() || *rel.lexically_normal().begin() == "..") continue;
    ::rmdir((fs::path(root) / rel).c_str());
  }
}

}  // namespace prov
