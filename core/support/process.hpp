#pragma once
/// Running a short-lived program and collecting what it printed. Programs start as every child
/// does (spawn.hpp): from an argv array (never a shell string), with stdin from /dev/null so they
/// cannot read the caller's input (for the plugin: Nushell's protocol stream), and every signal
/// at its default.

#include <string>
#include <vector>

namespace prov {

/// What a finished program left behind.
struct ProcessOutput {
  int exit_code = 0;  ///< the exit status, or 128 + signal number when a signal ended it (ExitStatus::exit_code)
  std::string out;    ///< everything written to stdout
  std::string err;    ///< everything written to stderr
};

/// Runs `argv` (argv[0] looked up in PATH) to completion and captures its output. Throws
/// ResourceError `provisioning::process::spawn` when the program cannot be started.
ProcessOutput run_captured(const std::vector<std::string>& argv);

}  // namespace prov
