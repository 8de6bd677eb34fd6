#include "core/providers/local_provider.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/events/event.hpp"
#include "core/providers/local_supervisor.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/duration.hpp"
#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

/// How long the supervisor may take to record the server's pid.
constexpr milliseconds kStartTimeout{10'000};
/// How long a stopped server's supervisor may take to record its end and exit.
constexpr milliseconds kSupervisorExitTimeout{5'000};

const char* const kNotFoundHelp = "`prov server list --provider local` shows the local servers";

/// What the supervisor recorded in process.json.
struct ProcessRecord {
  pid_t supervisor_pid = 0;
  uint64_t supervisor_start = 0;
  pid_t pid = 0;  ///< 0 when the command did not start
  uint64_t start_ticks = 0;
  std::optional<DateTime> started;
  std::optional<int64_t> started_ns;
  std::optional<int64_t> exit_code;  ///< of the current run, once it ended
  std::optional<std::string> error;
  int64_t restarts = 0;
  std::optional<int64_t> last_exit_code;  ///< of the run before the current one
  bool stopped = false;                   ///< ended because it was asked to stop
};

std::optional<int64_t> int_of(const Datum& d, std::string_view key) {
  const Datum* v = d.find(key);
  if (!v) return std::nullopt;
  if (const auto* i = std::get_if<int64_t>(&v->v)) return *i;
  return std::nullopt;
}

std::string string_of(const Datum& d, std::string_view key) {
  const Datum* v = d.find(key);
  return v && v->is_string() ? v->str() : std::string();
}

std::optional<Datum> read_json(const std::string& path) {
  const auto content = read_file_if_exists(path);
  if (!content) return std::nullopt;
  return decode_json(content->data);
}

std::optional<ProcessRecord> read_process(const std::string& dir) {
  const auto d = read_json(dir + "/" + local_files::process);
  if (!d) return std::nullopt;
  ProcessRecord r;
  r.supervisor_pid = static_cast<pid_t>(int_of(*d, "supervisor_pid").value_or(0));
  r.supervisor_start = static_cast<uint64_t>(int_of(*d, "supervisor_start").value_or(0));
  r.pid = static_cast<pid_t>(int_of(*d, "pid").value_or(0));
  r.start_ticks = static_cast<uint64_t>(int_of(*d, "start_ticks").value_or(0));
  if (const Datum* s = d->find("started"); s && std::holds_alternative<DateTime>(s->v))
    r.started = std::get<DateTime>(s->v);
  r.started_ns = int_of(*d, "started_ns");
  r.exit_code = int_of(*d, "exit_code");
  if (const Datum* e = d->find("error"); e && e->is_string()) r.error = e->str();
  r.restarts = int_of(*d, "restarts").value_or(0);
  r.last_exit_code = int_of(*d, "last_exit_code");
  if (const Datum* st = d->find("stopped"); st && std::holds_alternative<bool>(st->v))
    r.stopped = std::get<bool>(st->v);
  return r;
}

bool running(const ProcessRecord& p) { return p.pid > 0 && !p.exit_code && process_alive(p.pid, p.start_ticks); }

int64_t unix_nanos() {
  return std::chrono::duration_cast<nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Polls `done` until it holds or `timeout` ran out; true when it held.
template <typename Pred>
bool wait_until(Pred done, nanoseconds timeout) {
  const auto end = Clock::now() + timeout;
  auto step = milliseconds(1);
  while (true) {
    if (done()) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, milliseconds(20));
  }
}

/// The last lines of a log file (at most ~2 KB), for error messages.
std::string log_tail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 2048);
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (from > 0)
    if (size_t nl = text.find('\n'); nl != std::string::npos) text.erase(0, nl + 1);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// Creates `path` as a 0700 folder unless it exists.
void make_private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) {
    ::chmod(path.c_str(), 0700);  // whatever the umask
    return;
  }
  if (errno == EEXIST) return;
  throw ProviderError("provisioning::provider::failed",
                      "cannot create the folder " + path + ": " + std::strerror(errno),
                      "check that the workspace's state directory is writable");
}

/// A name as a folder name: letters, digits, '.', '_' and '-'; anything else becomes '-'.
std::string id_stem(const std::string& name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '-';
  if (out.size() > 64) out.resize(64);
  if (!out.empty() && out[0] == '.') out[0] = '-';
  return out;
}

/// True when something already binds `port` (TCP, any local address): a listener in
/// /proc/net/tcp{,6}, or a bind to it that fails.
bool port_taken(int64_t port) {
  if (!listening_socket_inodes(static_cast<int>(port)).empty()) return true;
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // TIME_WAIT leftovers do not count
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EADDRINUSE;
}

/// " (pid 123, python3)" for the process listening on `port`; "" when none is seen.
std::string port_holder_text(int64_t port) {
  const auto holder = socket_holder(listening_socket_inodes(static_cast<int>(port)));
  return holder ? " (pid " + std::to_string(holder->pid) + ", " + holder->name + ")" : std::string();
}

/// Refuses to start `name` while one of its `ports` is taken.
void check_ports_free(const std::string& name, const std::vector<int64_t>& ports) {
  for (int64_t port : ports)
    if (port_taken(port))
      throw ProviderError(
          "provisioning::server::port_in_use",
          "port " + std::to_string(port) + " of local server `" + name + "` is already in use" + port_holder_text(port),
          "stop what listens on it, or declare another port in the spec's `ports`");
}

/// True when a process of group `pgid` (the server and what it started) listens on `port`:
/// an answer from another process does not make the server ready.
bool group_listens_on(pid_t pgid, int64_t port) {
  const auto listening = listening_socket_inodes(static_cast<int>(port));
  if (listening.empty()) return false;
  for (pid_t member : process_group_members(pgid))
    for (uint64_t inode : process_socket_inodes(member))
      if (std::find(listening.begin(), listening.end(), inode) != listening.end()) return true;
  return false;
}

std::vector<int64_t> ports_of(const Datum& spec) {
  std::vector<int64_t> out;
  if (const Datum* p = spec.find("ports"); p && p->is_list())
    for (const Datum& v : p->list())
      if (const auto* i = std::get_if<int64_t>(&v.v)) out.push_back(*i);
  return out;
}

/// "; its stderr ends with:\n…" (and stdout's): the logs' tails of the server in `dir`.
std::string log_tails(const std::string& dir) {
  std::string out;
  for (const auto& [label, file] :
       {std::pair{"stderr", local_files::stderr_log}, std::pair{"stdout", local_files::stdout_log}}) {
    const std::string tail = log_tail(dir + "/" + file);
    if (!tail.empty()) out += std::string("; its ") + label + " ends with:\n" + tail;
  }
  return out;
}

Duration config_duration(const Datum& config, const char* key, Duration fallback) {
  const Datum* v = config.is_record() ? config.find(key) : nullptr;
  if (!v || v->is_null()) return fallback;
  std::string why;
  auto d = to_duration(*v, why);
  if (!d || d->nanos < 0)
    throw ConfigError("provisioning::config::bad_value",
                      std::string("[providers.local].") + key + " is not a duration: " + (d ? "negative" : why),
                      std::string("write it as ") + kDurationForms);
  return *d;
}

std::string exit_text(int64_t code) {
  if (code > 128 && code < 128 + 65)
    return "was killed by signal " + std::to_string(code - 128) + " (exit status " + std::to_string(code) + ")";
  return "exited with status " + std::to_string(code);
}

}  // namespace

LocalProvider::LocalProvider(ProviderContext context, std::string supervisor_exe)
    : ctx_(std::move(context)),
      exe_(std::move(supervisor_exe)),
      servers_dir_(ctx_.state_dir.empty() ? std::string() : ctx_.state_dir + "/servers/local") {
  ready_timeout_ = config_duration(ctx_.config, "ready_timeout", ready_timeout_);
  kill_grace_ = config_duration(ctx_.config, "kill_grace", kill_grace_);
}

void LocalProvider::check_cancel() const {
  if (ctx_.cancel && ctx_.cancel->cancelled())
    throw ProviderError("provisioning::provider::cancelled", "cancelled while waiting for a local server");
}

Server LocalProvider::read(const std::string& dir) const {
  const auto spec = read_json(dir + "/" + local_files::server);
  if (!spec)
    throw ProviderError("provisioning::provider::not_found", "no local server recorded in " + dir, kNotFoundHelp);
  Server s;
  s.id = string_of(*spec, "id");
  s.name = string_of(*spec, "name");
  s.provider = name_;
  if (const Datum* c = spec->find("created"); c && std::holds_alternative<DateTime>(c->v))
    s.created = std::get<DateTime>(c->v);

  const auto proc = read_process(dir);
  Datum pid, started, uptime, exit_code;
  if (!proc) {
    s.state = server_state::creating;
  } else {
    if (proc->pid > 0) pid = Datum(int64_t{proc->pid});
    if (proc->started) started = Datum(*proc->started);
    if (proc->exit_code) exit_code = Datum(*proc->exit_code);
    if (running(*proc)) {
      s.state = server_state::running;
      if (proc->started_ns) uptime = Datum(to_millis(Duration{std::max<int64_t>(0, unix_nanos() - *proc->started_ns)}));
    } else {
      s.state = server_state::exited;
    }
  }
  auto field = [&](const char* key, Datum fallback) {
    const Datum* v = spec->find(key);
    return v && !v->is_null() ? *v : fallback;
  };
  const std::string plan = string_of(*spec, "plan");
  s.fields = {{"plan", plan.empty() ? Datum() : Datum(plan)},
              {"labels", field("labels", Datum(DatumRecord{}))},
              {"pid", pid},
              {"started", started},
              {"uptime", uptime},
              {"command", field("command", Datum(DatumList{}))},
              {"logs", Datum(DatumRecord{{"stdout", Datum(dir + "/" + local_files::stdout_log)},
                                         {"stderr", Datum(dir + "/" + local_files::stderr_log)}})},
              {"ports", field("ports", Datum(DatumList{}))},
              {"exit_code", exit_code},
              {"env", field("env", Datum(DatumRecord{}))},
              {"cwd", field("cwd", Datum())},
              {"restart", field("restart", Datum())},
              {"restarts", Datum(proc ? proc->restarts : int64_t{0})}};
  return s;
}

std::string LocalProvider::resolve(const std::string& id) const {
  if (servers_dir_.empty())
    throw ProviderError("provisioning::provider::not_found", "no local server with id `" + id + "`", kNotFoundHelp);
  const bool plain =
      !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos && id.find('\0') == std::string::npos;
  if (plain && fs::exists(servers_dir_ + "/" + id + "/" + local_files::server)) return servers_dir_ + "/" + id;
  // Not an id: a name that one server has.
  std::vector<std::string> named;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(servers_dir_, ec)) {
    try {
      const auto spec = read_json(entry.path().string() + "/" + local_files::server);
      if (spec && string_of(*spec, "name") == id) named.push_back(entry.path().string());
    } catch (const Error&) {
    }
  }
  if (named.size() == 1) return named[0];
  if (named.size() > 1)
    throw ProviderError("provisioning::provider::not_found",
                        std::to_string(named.size()) + " local servers are named `" + id + "`: give one's id",
                        kNotFoundHelp);
  throw ProviderError("provisioning::provider::not_found", "no local server with id `" + id + "`", kNotFoundHelp);
}

std::vector<Server> LocalProvider::list() {
  std::vector<Server> out;
  if (servers_dir_.empty()) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(servers_dir_, ec)) {
    if (!entry.is_directory(ec)) continue;
    try {
      out.push_back(read(entry.path().string()));
    } catch (const Error&) {
      // Being created or removed right now, or not ours.
    }
  }
  std::sort(out.begin(), out.end(), [](const Server& a, const Server& b) {
    return std::tie(a.created.rfc3339, a.id) < std::tie(b.created.rfc3339, b.id);
  });
  return out;
}

Server LocalProvider::get(const std::string& id) { return read(resolve(id)); }

std::vector<std::string> LocalProvider::spec_fields() { return {"command", "env", "cwd", "ports", "restart"}; }

std::string LocalProvider::identity_lock() const {
  return ctx_.state_dir.empty() ? std::string() : ctx_.state_dir + "/servers/local.lock";
}

Server LocalProvider::create(const ServerSpec& spec) {
  if (spec.name.empty())
    throw ProviderError("provisioning::provider::invalid_spec", "a local server needs a `name`",
                        "give the spec a name: {name: web, command: [...]}");
  if (spec.command.empty() || spec.command[0].empty())
    throw ProviderError("provisioning::provider::invalid_spec",
                        "local server `" + spec.name + "` needs a `command` to run",
                        "give the spec an argv list, e.g. {name: web, command: [python3 -m http.server 8080]}");
  if (servers_dir_.empty())
    throw ProviderError("provisioning::provider::failed",
                        "the local provider has no state directory to keep servers in",
                        "open a workspace (its state directory holds the local servers)");
  std::string cwd = spec.cwd.empty() ? ctx_.workspace : spec.cwd;
  if (!cwd.empty() && cwd[0] != '/' && !ctx_.workspace.empty()) cwd = ctx_.workspace + "/" + cwd;
  if (cwd.empty()) cwd = fs::current_path().string();
  if (!fs::is_directory(cwd))
    throw ProviderError("provisioning::provider::invalid_spec",
                        "the `cwd` of local server `" + spec.name + "` is not a folder: " + cwd,
                        "`cwd` is relative to the workspace");
  check_ports_free(spec.name, spec.ports);

  std::error_code ec;
  fs::create_directories(ctx_.state_dir, ec);
  make_private_dir(ctx_.state_dir + "/servers");
  make_private_dir(servers_dir_);
  std::string id, dir;
  std::random_device random;
  for (int attempt = 0;; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%06x", random() & 0xffffffu);
    id = id_stem(spec.name) + "-" + suffix;
    dir = servers_dir_ + "/" + id;
    if (::mkdir(dir.c_str(), 0700) == 0) break;
    if (errno != EEXIST || attempt > 20)
      throw ProviderError("provisioning::provider::failed",
                          "cannot create the folder " + dir + ": " + std::strerror(errno),
                          "check that the workspace's state directory is writable");
  }
  ::chmod(dir.c_str(), 0700);

  try {
    const Datum given = spec.to_datum();
    DatumRecord record{{"id", Datum(id)}, {"created", Datum(now_utc())}};
    for (const auto& kv : given.record()) record.push_back(kv);
    record.emplace_back("workdir", Datum(cwd));
    record.emplace_back("kill_grace_ns", Datum(kill_grace_.nanos));
    write_file_atomic(dir + "/" + local_files::server, encode_json(Datum(std::move(record))) + "\n", 0600);
    launch(dir);
  } catch (...) {
    fs::remove_all(dir, ec);
    throw;
  }

  // From here on a process may run: any failure stops it and removes its folder.
  try {
    await_ready(dir);
    return read(dir);
  } catch (...) {
    try {
      stop_and_remove(dir);
    } catch (...) {
    }
    throw;
  }
}

void LocalProvider::launch(const std::string& dir) {
  const auto spec = read_json(dir + "/" + local_files::server);
  Environment env = ctx_.environment().value_or(current_environment());
  if (const Datum* e = spec ? spec->find("env") : nullptr; e && e->is_record())
    for (const auto& [k, v] : e->record())
      if (v.is_string()) env[k] = v.str();
  launch_supervisor(exe_, dir, env);
}

void LocalProvider::await_ready(const std::string& dir) {
  const auto spec = read_json(dir + "/" + local_files::server);
  const std::string name = spec ? string_of(*spec, "name") : dir;
  std::optional<ProcessRecord> proc;
  const bool recorded = wait_until(
      [&] {
        check_cancel();
        proc = read_process(dir);
        return proc.has_value();
      },
      kStartTimeout);
  if (!recorded)
    throw ProviderError(
        "provisioning::provider::timeout",
        "local server `" + name + "` did not start within " +
            format_duration(Duration{nanoseconds(kStartTimeout).count()}) +
            [&] {
              std::string t = log_tail(dir + "/" + local_files::supervisor_log);
              return t.empty() ? std::string() : "; the supervisor said: " + t;
            }(),
        "the plugin's binary supervises local servers; check that it runs");
  if (proc->error)
    throw ProviderError("provisioning::provider::failed", "local server `" + name + "`: " + *proc->error,
                        "check that the command is installed and on the PATH of its environment");

  const pid_t first = proc->pid;
  const auto deadline = Clock::now() + nanoseconds(ready_timeout_.nanos);
  for (int64_t port : spec ? ports_of(*spec) : std::vector<int64_t>{}) {
    auto step = milliseconds(2);
    while (!group_listens_on(first, port)) {
      check_cancel();
      auto now = read_process(dir);
      if (!now || now->pid != first || !running(*now)) {
        // Give the supervisor a moment to record how it ended.
        wait_until(
            [&] {
              now = read_process(dir);
              return now && (now->exit_code || now->pid != first);
            },
            milliseconds(1000));
        std::optional<int64_t> code;
        if (now) code = now->pid == first ? now->exit_code : now->last_exit_code;
        std::string msg =
            "local server `" + name + "` ended before port " + std::to_string(port) + " accepted connections";
        if (code) msg += ": it " + exit_text(*code);
        throw ProviderError("provisioning::provider::failed", msg + log_tails(dir),
                            "run the command by hand to see why it stops");
      }
      if (Clock::now() >= deadline) {
        const std::string holder = port_holder_text(port);
        throw ProviderError("provisioning::provider::timeout",
                            "local server `" + name + "` did not listen on port " + std::to_string(port) + " within " +
                                format_duration(ready_timeout_) +
                                (holder.empty() ? std::string() : "; another process listens there" + holder),
                            "raise [providers.local].ready_timeout, or check the port the command listens on");
      }
      std::this_thread::sleep_for(step);
      step = std::min(step * 2, milliseconds(20));
    }
  }
}

void LocalProvider::stop_dir(const std::string& dir) {
  auto proc = read_process(dir);
  // Its supervisor may be starting it right now: let it record what it started.
  if (!proc) wait_until([&] { return (proc = read_process(dir)).has_value(); }, milliseconds(2000));
  if (!proc) return;
  const auto supervisor_alive = [&] { return process_alive(proc->supervisor_pid, proc->supervisor_start); };
  if (proc->supervisor_pid > 0 && supervisor_alive()) {
    // The supervisor stops the server itself and records that it was stopped (no restart).
    ::kill(proc->supervisor_pid, SIGTERM);
    if (!wait_until([&] { return !supervisor_alive(); }, nanoseconds(kill_grace_.nanos) + kSupervisorExitTimeout)) {
      ::kill(proc->supervisor_pid, SIGKILL);
      wait_until([&] { return !supervisor_alive(); }, kSupervisorExitTimeout);
    }
    proc = read_process(dir);
    if (!proc) return;
  }
  // No supervisor (it was killed): stop what it left.
  if (proc->pid > 0 && process_alive(proc->pid, proc->start_ticks)) {
    const pid_t group = proc->pid;
    ::kill(-group, SIGTERM);
    if (!wait_until([&] { return !process_alive(group, proc->start_ticks); }, nanoseconds(kill_grace_.nanos))) {
      ::kill(-group, SIGKILL);
      wait_until([&] { return !process_alive(group, proc->start_ticks); }, kSupervisorExitTimeout);
    }
    // What the server left in its group (it started them; they go with it). The group id
    // cannot name another group while any of them is alive.
    if (::kill(-group, 0) == 0) ::kill(-group, SIGKILL);
  }
}

Server LocalProvider::stop_and_remove(const std::string& dir) {
  stop_dir(dir);
  Server last = read(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec)
    throw ProviderError("provisioning::provider::failed", "cannot remove " + dir + ": " + ec.message(),
                        "check the permissions of the workspace's state directory");
  last.state = server_state::deleted;
  return last;
}

Server LocalProvider::remove(const std::string& id) { return stop_and_remove(resolve(id)); }

Server LocalProvider::stop(const std::string& id) {
  const std::string dir = resolve(id);
  stop_dir(dir);
  return read(dir);
}

Server LocalProvider::start(const std::string& id) {
  const std::string dir = resolve(id);
  if (read(dir).state == server_state::running) return read(dir);
  stop_dir(dir);  // a supervisor waiting to restart it
  const auto spec = read_json(dir + "/" + local_files::server);
  check_ports_free(spec ? string_of(*spec, "name") : id, spec ? ports_of(*spec) : std::vector<int64_t>{});
  std::error_code ec;
  fs::remove(dir + "/" + local_files::process, ec);
  launch(dir);
  try {
    await_ready(dir);
  } catch (...) {
    try {
      stop_dir(dir);
    } catch (...) {
    }
    throw;
  }
  return read(dir);
}

Server LocalProvider::set_labels(const std::string& id, const Datum& labels) {
  if (!labels.is_record())
    throw ProviderError("provisioning::provider::bad_spec", "labels must be a record, not " + labels.a_type_name());
  const std::string dir = resolve(id);
  auto spec = read_json(dir + "/" + local_files::server);
  if (!spec || !spec->is_record())
    throw ProviderError("provisioning::provider::not_found", "no local server recorded in " + dir, kNotFoundHelp);
  spec->set("labels", labels);
  write_file_atomic(dir + "/" + local_files::server, encode_json(*spec) + "\n", 0600);
  return read(dir);
}

Server LocalProvider::restart(const std::string& id) {
  const std::string dir = resolve(id);
  stop_dir(dir);
  return start(id);
}

Provider::LogFiles LocalProvider::logs(const std::string& id) {
  const std::string dir = resolve(id);
  LogFiles f;
  f.stdout_path = dir + "/" + local_files::stdout_log;
  f.stderr_path = dir + "/" + local_files::stderr_log;
  if (const auto proc = read_process(dir); proc && process_alive(proc->supervisor_pid, proc->supervisor_start)) {
    f.writer = proc->supervisor_pid;
    f.writer_start = proc->supervisor_start;
  }
  return f;
}

Connectivity LocalProvider::test_connectivity() {
  const auto start = Clock::now();
  Connectivity c;
  c.ok = ::access(exe_.c_str(), X_OK) == 0;
  c.message = c.ok ? "local processes, supervised by " + exe_
                   : "the supervisor " + exe_ + " is not executable: " + std::strerror(errno);
  c.duration = Duration{std::chrono::duration_cast<nanoseconds>(Clock::now() - start).count()};
  return c;
}

}  // namespace prov
