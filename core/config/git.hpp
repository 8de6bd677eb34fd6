#pragma once
/// What configuration needs to know from git.

#include <string>

namespace prov {

/// The branch checked out in the repository holding `dir` (`git -C dir branch --show-current`),
/// "" on a detached HEAD. Throws ConfigError `provisioning::config::git` when git is missing
/// or `dir` is not inside a repository.
std::string current_git_branch(const std::string& dir);

}  // namespace prov
