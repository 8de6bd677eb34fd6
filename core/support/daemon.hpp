#pragma once
/// Starting a program that outlives its caller (the workflow runner, the local supervisor): the
/// caller launches it and waits only for the launch; the program detaches itself at once.

#include <string>
#include <vector>

namespace prov {

/// Starts `argv` (argv[0] a path) with stdin from /dev/null, stdout and stderr appended to
/// `log_path` (created 0600, never through a symlink), default signal dispositions and an empty
/// signal mask, in `envp`; then waits for it to exit, which it does at once by calling detach().
/// With `ready_fd` >= 0, the program gets that descriptor as its descriptor 3 (kReadyFd), to say
/// when it is ready. Returns 0, or the errno of a failed start.
int launch_detached(const std::vector<std::string>& argv, const std::string& log_path, char* const* envp,
                    int ready_fd = -1);

/// The descriptor a program launched with a `ready_fd` tells its launcher through.
inline constexpr int kReadyFd = 3;

/// The first step of a program started by launch_detached: forks; the parent exits at once (its
/// launcher reaps it) and the child returns true, in a session of its own, holding no descriptor
/// above 2 that the launcher left open (a pipe to Nu would keep Nu waiting for its end), except
/// kReadyFd when `keep_ready_fd`. False when fork failed.
bool detach(bool keep_ready_fd = false);

}  // namespace prov
