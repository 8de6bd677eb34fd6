#include "core/providers/local_supervisor.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "core/events/event.hpp"
#include "core/providers/provider.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

namespace {

int64_t unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void write_process(const std::string& dir, const DatumRecord& r) {
  write_file_atomic(dir + "/" + local_files::process, encode_json(Datum(r)) + "\n", 0600);
}

/// Waits until `child` ends, SIGTERM arrives on `sigfd` or `timeout` passes (nullopt: no
/// timeout). True when SIGTERM came (it is consumed).
bool wait_child_or_term(const Child* child, int sigfd, std::optional<std::chrono::milliseconds> timeout) {
  const auto end = timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  while (true) {
    pollfd fds[2] = {{sigfd, POLLIN, 0}, {child ? child->pidfd() : -1, POLLIN, 0}};
    int wait_ms = -1;
    if (timeout) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    // Without a pidfd, look at the child now and then.
    if (child && child->pidfd() < 0) wait_ms = wait_ms < 0 ? 50 : std::min(wait_ms, 50);
    const int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info{};
      if (::read(sigfd, &info, sizeof info) < 0) {
      }
      return true;
    }
    if (child && child->exited()) return false;
  }
}

/// Runs the server of `dir` (restarting it as its spec's restart policy says) until it ends
/// for good or SIGTERM (`sigfd`) asks to stop it; records each run. The supervisor's exit code.
int supervise(const std::string& dir, int sigfd) {
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
  if (const Datum* c = spec.find("workdir"); c && c->is_string()) cwd = c->str();
  RestartPolicy policy;
  if (const Datum* r = spec.find("restart"); r && !r->is_null()) policy = RestartPolicy::from_datum(*r, "restart");
  std::chrono::milliseconds grace{5000};
  if (const Datum* g = spec.find("kill_grace_ns"); g && std::holds_alternative<int64_t>(g->v))
    grace = std::chrono::milliseconds(std::get<int64_t>(g->v) / 1'000'000);

  const pid_t self = ::getpid();
  const auto self_stat = read_proc_stat(self);
  const DatumRecord base{{"supervisor_pid", Datum(int64_t{self})},
                         {"supervisor_start", Datum(static_cast<int64_t>(self_stat ? self_stat->start_ticks : 0))}};
  if (argv.empty()) {
    DatumRecord rec = base;
    rec.emplace_back("error", Datum("the command is empty"));
    rec.emplace_back("exit_code", Datum(127));
    write_process(dir, rec);
    return 1;
  }

  SpawnSpec server;
  server.argv = argv;  // looked up in our PATH, which is the server's environment
  server.cwd = cwd;
  server.out = Redirect::append(dir + "/" + local_files::stdout_log);
  server.err = Redirect::append(dir + "/" + local_files::stderr_log);
  server.group = ProcessGroup::own;  // so that it can be stopped as one

  std::optional<int64_t> last_exit;
  for (int64_t restarts = 0;; ++restarts) {
    DatumRecord rec = base;
    rec.emplace_back("restarts", Datum(restarts));
    if (last_exit) rec.emplace_back("last_exit_code", Datum(*last_exit));
    const int64_t started_ns = unix_nanos();
    const DateTime started = now_utc();
    Child child;
    try {
      child = spawn(server);
    } catch (const Error& e) {
      rec.emplace_back("error", Datum(std::string(e.what())));
      rec.emplace_back("exit_code", Datum(127));
      write_process(dir, rec);
      return 1;
    }
    const pid_t pid = child.pid();
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
      child.kill(SIGKILL);
      child.wait();
      return 1;
    }

    bool stop = wait_child_or_term(&child, sigfd, std::nullopt);
    if (stop) {
      child.kill(SIGTERM);
      wait_child_or_term(&child, -1, grace);
      if (!child.exited()) child.kill(SIGKILL);
    }
    const int64_t code = child.wait().exit_code();
    if (stop && ::kill(-pid, 0) == 0) ::kill(-pid, SIGKILL);  // what it left in its group goes with it
    rec.emplace_back("exit_code", Datum(code));
    rec.emplace_back("finished", Datum(now_utc()));
    if (stop) rec.emplace_back("stopped", Datum(true));
    const bool again = !stop && policy.wants_restart(code, restarts);
    if (again) rec.emplace_back("next_restart_in", Datum(policy.delay(restarts + 1)));
    write_process(dir, rec);  // throws when the folder was removed meanwhile: nothing to record
    if (!again) return 0;
    // Before a restart, nothing of the old run may hold its ports.
    if (::kill(-pid, 0) == 0) ::kill(-pid, SIGKILL);
    const auto delay = std::chrono::milliseconds(policy.delay(restarts + 1).nanos / 1'000'000);
    if (wait_child_or_term(nullptr, sigfd, delay)) {
      rec.emplace_back("stopped", Datum(true));
      rec.erase(std::remove_if(rec.begin(), rec.end(), [](const auto& kv) { return kv.first == "next_restart_in"; }),
                rec.end());
      write_process(dir, rec);
      return 0;
    }
    last_exit = code;
  }
}

}  // namespace

void launch_supervisor(const std::string& exe, const std::string& dir, const Environment& env) {
  SpawnSpec spec;
  spec.argv = {exe, "--supervise", dir};
  spec.env = std::make_shared<const ChildEnv>(env);
  spec.out = Redirect::append(dir + "/" + local_files::supervisor_log);
  spec.err = Redirect::to_stdout();
  try {
    launch_detached(spec);
  } catch (const ResourceError& e) {
    throw ProviderError("provisioning::provider::failed", std::string("the local server supervisor: ") + e.what(),
                        "the plugin's own binary runs it; check that it is still in place");
  }
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
  // SIGTERM asks to stop the server (LocalProvider::stop): it is read from a signalfd.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &term, nullptr);
  const UniqueFd sigfd(::signalfd(-1, &term, SFD_CLOEXEC));
  if (!sigfd) {
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: signalfd: %s\n", std::strerror(errno));
    return 1;
  }
  try {
    return supervise(args[0], sigfd.get());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: %s\n", e.what());
    return 1;
  }
}

}  // namespace prov
