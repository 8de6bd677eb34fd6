#include "core/providers/local_supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "core/events/event.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

extern char** environ;

namespace prov {

namespace {

int64_t unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void write_process(const std::string& dir, const DatumRecord& r) {
  write_file_atomic(dir + "/" + local_files::process, encode_json(Datum(r)) + "\n", 0600);
}

/// Runs the server of `dir` to its end and records it; the supervisor's exit code.
int supervise(const std::string& dir) {
  const auto text = read_file_if_exists(dir + "/" + local_files::server);
  if (!text) {
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: no %s in %s\n", local_files::server, dir.c_str());
    return 1;
  }
  const Datum spec = decode_json(text->data);
  std::vector<std::string> argv;
  if (const Datum* c = spec.find("command"); c && c->is_list())
    for (const Datum& a : c->list())
      if (a.is_string()) argv.push_back(a.str());
  std::string cwd;
  if (const Datum* c = spec.find("cwd"); c && c->is_string()) cwd = c->str();

  const pid_t self = ::getpid();
  const auto self_stat = read_proc_stat(self);
  DatumRecord rec{{"supervisor_pid", Datum(int64_t{self})},
                  {"supervisor_start", Datum(static_cast<int64_t>(self_stat ? self_stat->start_ticks : 0))}};
  if (argv.empty()) {
    rec.emplace_back("error", Datum("the command is empty"));
    rec.emplace_back("exit_code", Datum(127));
    write_process(dir, rec);
    return 1;
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/" + local_files::stdout_log).c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/" + local_files::stderr_log).c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  // Its own process group, so that it can be stopped as one; every signal at its default.
  const GroupSpawnAttributes attr;
  std::vector<char*> args = to_exec_array(argv);
  pid_t pid = 0;
  const int64_t started_ns = unix_nanos();
  const DateTime started = now_utc();
  // posix_spawnp looks argv[0] up in our PATH, which is the server's environment.
  const int rc = ::posix_spawnp(&pid, argv[0].c_str(), &fa, attr.get(), args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    rec.emplace_back("error", Datum("cannot start " + argv[0] + ": " + std::strerror(rc)));
    rec.emplace_back("exit_code", Datum(127));
    write_process(dir, rec);
    return 1;
  }
  // Not reaped yet, so its /proc entry is there even when it already ended.
  const auto st = read_proc_stat(pid);
  rec.emplace_back("pid", Datum(int64_t{pid}));
  rec.emplace_back("start_ticks", Datum(static_cast<int64_t>(st ? st->start_ticks : 0)));
  rec.emplace_back("started", Datum(started));
  rec.emplace_back("started_ns", Datum(started_ns));
  try {
    write_process(dir, rec);
  } catch (const Error& e) {
    // Nobody could ever find or stop it: do not leave it running.
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: %s\n", e.what());
    ::kill(-pid, SIGKILL);
  }

  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  const int code = got != pid ? -1 : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  rec.emplace_back("exit_code", Datum(code));
  rec.emplace_back("finished", Datum(now_utc()));
  write_process(dir, rec);  // throws when the folder was removed meanwhile: nothing to record
  return 0;
}

}  // namespace

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  // read(2), not a stream: reading the file of a process that just ended fails with ESRCH,
  // which libstdc++'s filebuf throws.
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold anything, ')' included.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  ProcStat s;
  std::string field;
  // Fields from 3 on: state, ppid, pgrp, session, …, starttime is field 22.
  long long ppid = 0, pgrp = 0, session = 0;
  rest >> s.state >> ppid >> pgrp >> session;
  for (int i = 7; i < 22 && rest; ++i) rest >> field;
  rest >> s.start_ticks;
  if (!rest) return std::nullopt;
  s.pgid = static_cast<pid_t>(pgrp);
  s.session = static_cast<pid_t>(session);
  return s;
}

bool process_alive(pid_t pid, uint64_t start_ticks) {
  const auto s = read_proc_stat(pid);
  return s && s->state != 'Z' && s->state != 'X' && s->start_ticks == start_ticks;
}

void launch_supervisor(const std::string& exe, const std::string& dir, const Environment& env) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp = to_exec_array(env_strings);
  if (const int rc = launch_detached({exe, "--supervise", dir}, dir + "/" + local_files::supervisor_log, envp.data()))
    throw ProviderError("provisioning::provider::failed",
                        "cannot start the local server supervisor " + exe + ": " + std::strerror(rc),
                        "the plugin's own binary runs it; check that it is still in place");
}

int supervise_main(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].empty()) {
    std::fprintf(stderr, "usage: nu_plugin_provisioning --supervise SERVER_DIR\n");
    return 2;
  }
  // Leave the launching plugin: it reaps our parent, we go on in a session of our own.
  if (!detach()) return 1;
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return supervise(args[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: %s\n", e.what());
    return 1;
  }
}

}  // namespace prov
