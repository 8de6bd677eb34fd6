#pragma once
/// Starting a program that outlives its caller (the workflow runner, the local supervisor): the
/// caller launches it and waits only for the launch; the program detaches itself at once.

#include "core/support/spawn.hpp"

namespace prov {

/// Starts `spec`, a program whose first act is detach(), and reaps its first process, which
/// exits at once: what goes on is no child of ours (no zombie, no group of ours). Give it
/// the launch's readiness pipe, if any, as descriptor kReadyFd in `spec.pass_fds`. Throws as
/// spawn() does.
void launch_detached(const SpawnSpec& spec);

/// The descriptor a program launched with a readiness pipe tells its launcher through.
inline constexpr int kReadyFd = 3;

/// The first step of a program started by launch_detached: forks; the parent exits at once (its
/// launcher reaps it) and the child returns true, in a session of its own, holding no descriptor
/// above 2 that the launcher left open (a pipe to Nu would keep Nu waiting for its end), except
/// kReadyFd when `keep_ready_fd`. False when fork failed.
bool detach(bool keep_ready_fd = false);

}  // namespace prov
