#pragma once
/// The supervisor of one `local` server: `nu_plugin_provisioning --supervise DIR`, detached in
/// a session of its own so that the server outlives the plugin. It starts the command that
/// DIR/server.json names in a process group of its own, records the server's pid and start
/// time in DIR/process.json, waits for it, records how it ended, starts it again when the
/// spec's `restart` policy says so (RestartPolicy, provider.hpp), and exits once it ended for
/// good. SIGTERM to the supervisor stops the server (SIGTERM to its group, SIGKILL after
/// kill_grace): the supervisor records `stopped` and exits without restarting it.
///
/// A server folder holds (files 0600, the folder 0700):
///   server.json    written by the provider before the supervisor starts:
///                  {id, name, plan, labels, created, command, env, cwd, workdir (cwd
///                  resolved), ports, restart, kill_grace_ns}
///   process.json   written by the supervisor (atomically, whole), one run at a time:
///                  {supervisor_pid, supervisor_start, restarts, last_exit_code (of the run
///                  before), pid, start_ticks, started, started_ns} and, once that run ended,
///                  exit_code, finished, `stopped` (on request) or `next_restart_in`; when the
///                  command could not start: {supervisor_pid, supervisor_start, error, exit_code: 127}
///   stdout.log, stderr.log   the server's output; supervisor.log  the supervisor's own

#include <string>
#include <vector>

#include "core/support/spawn.hpp"

namespace prov {

namespace local_files {
inline constexpr const char* server = "server.json";
inline constexpr const char* process = "process.json";
inline constexpr const char* stdout_log = "stdout.log";
inline constexpr const char* stderr_log = "stderr.log";
inline constexpr const char* supervisor_log = "supervisor.log";
}  // namespace local_files

/// Starts `exe --supervise dir` detached (own session, stdin /dev/null, output appended to
/// dir/supervisor.log) with `env` as its environment, which the server inherits. Returns once
/// the supervisor has let go of its parent. Throws ProviderError `provisioning::provider::failed`
/// when it cannot start.
void launch_supervisor(const std::string& exe, const std::string& dir, const Environment& env);

/// The supervisor's entry from main(): `args` are what follows `--supervise` (the server's
/// folder). Detaches (fork, setsid), runs the server to its end; returns the exit code.
int supervise_main(const std::vector<std::string>& args);

}  // namespace prov
