#include "core/config/workspace.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "core/support/error.hpp"

namespace prov {

namespace fs = std::filesystem;

namespace {

/// Normalized, without a trailing slash (except for "/" itself).
std::string normalized(const fs::path& p) {
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// `given` as an absolute path: `~` and `~/…` from HOME, relative paths from cwd; nullopt when
/// it needs HOME and there is none.
std::optional<std::string> absolute(const ConfigRequest& request, const std::string& given) {
  if (given == "~" || given.rfind("~/", 0) == 0) {
    const std::string* home = request.env_var("HOME");
    if (!home) return std::nullopt;
    return normalized(fs::path(*home) / given.substr(given == "~" ? 1 : 2));
  }
  return normalized(fs::path(request.cwd) / given);
}

std::string named_workspace(const ConfigRequest& request, const std::string& given,
                            const std::string& what, const Blame& blame) {
  auto fail = [&](const std::string& why) {
    return ConfigError("provisioning::config::workspace_not_found",
                       "workspace '" + given + "' (from " + what + ") " + why,
                       "give the path of an existing directory", blame);
  };
  if (given.empty()) throw fail("is empty");
  const std::optional<std::string> path = absolute(request, given);
  if (!path) throw fail("cannot be found: HOME is not set to expand ~");
  if (!is_directory(*path))
    throw fail((exists(*path) ? "is not a directory: " : "does not exist: ") + *path);
  return *path;
}

void check_environment_name(const std::string& name, const std::string& what, Blame blame) {
  bool ok = !name.empty();
  for (char c : name)
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  if (!ok)
    throw ConfigError("provisioning::config::bad_environment",
                      "invalid environment name '" + name + "' (from " + what + ")",
                      "environment names are letters, digits, '_' and '-', like dev or prod-eu",
                      std::move(blame));
}

}  // namespace

std::string workspace_origin_text(WorkspaceOrigin origin) {
  switch (origin) {
    case WorkspaceOrigin::Flag: return "--workspace";
    case WorkspaceOrigin::Environment: return "$env.PROVISIONING_WORKSPACE";
    case WorkspaceOrigin::Found: return "config.defaults.toml";
    case WorkspaceOrigin::None: break;
  }
  return "";
}

WorkspaceRoot find_workspace(const ConfigRequest& request) {
  if (!fs::path(request.cwd).is_absolute())
    throw ConfigError("provisioning::config::workspace_not_found",
                      "the current directory '" + request.cwd + "' is not an absolute path");
  if (request.workspace_flag)
    return {named_workspace(request, *request.workspace_flag, "--workspace", Blame::flag("workspace")),
            WorkspaceOrigin::Flag};
  if (const std::string* env = request.env_var("PROVISIONING_WORKSPACE"))
    return {named_workspace(request, *env, "$env.PROVISIONING_WORKSPACE", Blame{}), WorkspaceOrigin::Environment};

  const std::string cwd = normalized(request.cwd);
  for (fs::path dir = cwd;; dir = dir.parent_path()) {
    if (exists((dir / "config.defaults.toml").string())) return {normalized(dir), WorkspaceOrigin::Found};
    if (dir == dir.parent_path()) break;
  }
  return {cwd, WorkspaceOrigin::None};
}

std::string resolve_workspace(const ConfigRequest& request) { return find_workspace(request).path; }

std::string resolve_environment(const ConfigRequest& request) {
  if (request.env_flag) {
    check_environment_name(*request.env_flag, "--env", Blame::flag("env"));
    return *request.env_flag;
  }
  if (const std::string* env = request.env_var("PROVISIONING_ENV")) {
    check_environment_name(*env, "$env.PROVISIONING_ENV", Blame{});
    return *env;
  }
  return "";
}

}  // namespace prov
