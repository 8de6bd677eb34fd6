#include "core/config/git.hpp"

#include "core/support/error.hpp"
#include "core/support/process.hpp"

namespace prov {

std::string current_git_branch(const std::string& dir) {
  ProcessOutput result;
  try {
    result = run_captured({"git", "-C", dir, "branch", "--show-current"});
  } catch (const ResourceError& e) {
    throw ConfigError("provisioning::config::git",
                      std::string("{{git.branch}} needs git: ") + e.what(), e.help());
  }
  if (result.exit_code != 0) {
    std::string why = result.err;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw ConfigError("provisioning::config::git",
                      "cannot read the git branch of " + dir + ": " +
                          (why.empty() ? "git exited with " + std::to_string(result.exit_code)
                                       : why),
                      "{{git.branch}} works only in a git repository");
  }
  std::string branch = result.out;
  const size_t end = branch.find_last_not_of(" \t\r\n");
  branch.erase(end == std::string::npos ? 0 : end + 1);
  return branch;
}

}  // namespace prov
