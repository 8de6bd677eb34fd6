#pragma once
/// Which workspace and which environment a request is about.

#include <string>

#include "core/config/config.hpp"

namespace prov {


/// Where a workspace origin comes from, as a user would name it: "--workspace",
/// "$env.PROVISIONING_WORKSPACE", "config.defaults.toml"; "" for None.
std::string workspace_origin_text(WorkspaceOrigin origin);

/// The workspace root and how it was chosen (the rules of resolve_workspace).
struct WorkspaceRoot {
  std::string path;
  WorkspaceOrigin origin = WorkspaceOrigin::None;
};
WorkspaceRoot find_workspace(const ConfigRequest& request);

/// The workspace root, absolute and normalized: --workspace (relative to cwd, `~` from HOME),
/// else $PROVISIONING_WORKSPACE (the same way), else the nearest ancestor of cwd (cwd included)
/// holding config.defaults.toml, else cwd. Throws ConfigError
/// `provisioning::config::workspace_not_found` when a named workspace is not a directory
/// (blamed on flag "workspace" when it came from the flag).
std::string resolve_workspace(const ConfigRequest& request);

/// The environment's name: --env, else $PROVISIONING_ENV, else "" (none). Throws ConfigError
/// `provisioning::config::bad_environment` unless the name matches [A-Za-z0-9_-]+ (blamed on
/// flag "env" when it came from the flag), so that no name can reach outside the workspace.
std::string resolve_environment(const ConfigRequest& request);

}  // namespace prov
