#pragma once
/// Nu's own parser over the Nu code of a workflow, before anything runs: a `nu` operation whose
/// code cannot parse is refused at plan time, not when it is reached.

#include <string>
#include <vector>

namespace prov {

/// A piece of Nu code and the directory it would run in (`source` and `use` read from there).
struct NuCode {
  std::string code;
  std::string cwd;
};

/// For each of `codes`, "" when Nu's parser (`nu-check` of the `nu` at `nu_path`) takes it, else
/// what the parser says is wrong. One `nu` process checks them all; the code is data to it
/// (a JSON file), never spliced into a command line. Throws ResourceError
/// `provisioning::process::spawn` when `nu` cannot be started, and
/// `provisioning::operation::nu_check` when it does not answer as expected.
std::vector<std::string> nu_parse_errors(const std::string& nu_path, const std::vector<NuCode>& codes);

}  // namespace prov
