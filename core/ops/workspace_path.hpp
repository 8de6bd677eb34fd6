#pragma once
/// Paths that operations write to, confined to the workspace: a workflow may name any file
/// inside it, none outside.

#include <string>
#include <vector>

namespace prov {

/// A file's place inside the workspace.
struct WorkspacePath {
  std::string root;      ///< the workspace's real path (symlinks resolved)
  std::string relative;  ///< from the root, normalised: "conf/app.toml"
  std::string absolute;  ///< root + "/" + relative
};

/// Resolves `path`, relative to `workspace` or absolute inside it, to a file in the workspace.
/// Throws WorkflowError `provisioning::operation::path_outside_workspace` for a path that
/// leaves it (`..`, absolute elsewhere, an existing directory on the way that is a symlink
/// leading out) or names no file in it (empty, the root itself); ResourceError
/// `provisioning::resource::read` when the workspace does not exist. The file itself is not
/// looked at: whoever opens it must not follow a symlink there.
WorkspacePath resolve_in_workspace(const std::string& workspace, const std::string& path);

/// Creates the directories missing between the root and `p`'s file; returns the ones it
/// created, relative to the root, outermost first. Throws ResourceError
/// `provisioning::resource::write`.
std::vector<std::string> create_parent_dirs(const WorkspacePath& p);

/// Removes the directories `created` (as create_parent_dirs returned them) that are empty,
/// innermost first; the others stay. Never throws.
void remove_created_dirs(const std::string& root, const std::vector<std::string>& created);

}  // namespace prov
