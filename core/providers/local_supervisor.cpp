#include "core/providers/local_supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/events/event.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"

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

  SpawnSpec server;
  server.argv = argv;  // looked up in our PATH, which is the server's environment
  server.cwd = cwd;
  server.out = Redirect::append(dir + "/" + local_files::stdout_log);
  server.err = Redirect::append(dir + "/" + local_files::stderr_log);
  server.group = ProcessGroup::own;  // so that it can be stopped as one
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
  }

  rec.emplace_back("exit_code", Datum(child.wait().exit_code()));
  rec.emplace_back("finished", Datum(now_utc()));
  write_process(dir, rec);  // throws when the folder was removed meanwhile: nothing to record
  return 0;
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
  try {
    return supervise(args[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning supervisor: %s\n", e.what());
    return 1;
  }
}

}  // namespace prov
