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
  std::optional<int64_t> exit_code;
  std::optional<std::string> error;
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
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '-';
  if (out.size() > 64) out.resize(64);
  if (!out.empty() && out[0] == '.') out[0] = '-';
  return out;
}

bool accepts_connection(int64_t port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
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
  if (code > 128 && code < 128 + 65) return "was killed by signal " + std::to_string(code - 128) + " (exit status " + std::to_string(code) + ")";
  return "exited with status " + std::to_string(code);
}

}  // namespace

LocalProvider::LocalProvider(ProviderContext context, std::string supervisor_exe)
    : ctx_(std::move(context)), exe_(std::move(supervisor_exe)),
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
  const Datum* command = spec->find("command");
  const Datum* ports = spec->find("ports");
  s.fields = {{"pid", pid},
              {"started", started},
              {"uptime", uptime},
              {"command", command ? *command : Datum(DatumList{})},
              {"logs", Datum(DatumRecord{{"stdout", Datum(dir + "/" + local_files::stdout_log)},
                                         {"stderr", Datum(dir + "/" + local_files::stderr_log)}})},
              {"ports", ports ? *ports : Datum(DatumList{})},
              {"exit_code", exit_code}};
  return s;
}

std::string LocalProvider::resolve(const std::string& id) const {
  if (servers_dir_.empty())
    throw ProviderError("provisioning::provider::not_found", "no local server with id `" + id + "`", kNotFoundHelp);
  const bool plain = !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
                     id.find('\0') == std::string::npos;
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

Server LocalProvider::create(const ServerSpec& spec) {
  if (spec.name.empty())
    throw ProviderError("provisioning::provider::invalid_spec", "a local server needs a `name`",
                        "give the spec a name: {name: web, command: [...]}");
  if (spec.command.empty() || spec.command[0].empty())
    throw ProviderError("provisioning::provider::invalid_spec",
                        "local server `" + spec.name + "` needs a `command` to run",
                        "give the spec an argv list, e.g. {name: web, command: [python3 -m http.server 8080]}");
  if (servers_dir_.empty())
    throw ProviderError("provisioning::provider::failed", "the local provider has no state directory to keep servers in",
                        "open a workspace (its state directory holds the local servers)");
  std::string cwd = spec.cwd.empty() ? ctx_.workspace : spec.cwd;
  if (!cwd.empty() && cwd[0] != '/' && !ctx_.workspace.empty()) cwd = ctx_.workspace + "/" + cwd;
  if (cwd.empty()) cwd = fs::current_path().string();
  if (!fs::is_directory(cwd))
    throw ProviderError("provisioning::provider::invalid_spec",
                        "the `cwd` of local server `" + spec.name + "` is not a folder: " + cwd,
                        "`cwd` is relative to the workspace");

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
      throw ProviderError("provisioning::provider::failed", "cannot create the folder " + dir + ": " + std::strerror(errno),
                          "check that the workspace's state directory is writable");
  }
  ::chmod(dir.c_str(), 0700);

  try {
    DatumList command, ports;
    for (const auto& a : spec.command) command.emplace_back(a);
    for (int64_t p : spec.ports) ports.emplace_back(p);
    const Datum record(DatumRecord{{"id", Datum(id)},
                                   {"name", Datum(spec.name)},
                                   {"plan", Datum(spec.plan)},
                                   {"labels", Datum(spec.labels)},
                                   {"created", Datum(now_utc())},
                                   {"command", Datum(std::move(command))},
                                   {"cwd", Datum(cwd)},
                                   {"ports", Datum(std::move(ports))}});
    write_file_atomic(dir + "/" + local_files::server, encode_json(record) + "\n", 0600);
    Environment env = ctx_.environment().value_or(current_environment());
    for (const auto& [k, v] : spec.env) env[k] = v;
    launch_supervisor(exe_, dir, env);
  } catch (...) {
    fs::remove_all(dir, ec);
    throw;
  }

  // From here on a process may run: any failure stops it and removes its folder.
  try {
    std::optional<ProcessRecord> proc;
    const bool recorded = wait_until(
        [&] {
          check_cancel();
          proc = read_process(dir);
          return proc.has_value();
        },
        kStartTimeout);
    if (!recorded)
      throw ProviderError("provisioning::provider::timeout",
                          "local server `" + spec.name + "` did not start within " + format_duration(Duration{nanoseconds(kStartTimeout).count()}) +
                              [&] {
                                std::string t = log_tail(dir + "/" + local_files::supervisor_log);
                                return t.empty() ? std::string() : "; the supervisor said: " + t;
                              }(),
                          "the plugin's binary supervises local servers; check that it runs");
    if (proc->error)
      throw ProviderError("provisioning::provider::failed", "local server `" + spec.name + "`: " + *proc->error,
                          "check that the command is installed and on the PATH of its environment");

    const auto deadline = Clock::now() + nanoseconds(ready_timeout_.nanos);
    for (int64_t port : spec.ports) {
      auto step = milliseconds(2);
      while (!accepts_connection(port)) {
        check_cancel();
        if (!running(*read_process(dir))) {
          // Give the supervisor a moment to record how it ended.
          wait_until([&] { return read_process(dir)->exit_code.has_value(); }, milliseconds(1000));
          const auto ended = read_process(dir);
          std::string msg = "local server `" + spec.name + "` ended before port " + std::to_string(port) +
                            " accepted connections";
          if (ended->exit_code) msg += ": it " + exit_text(*ended->exit_code);
          const std::string tail = log_tail(dir + "/" + local_files::stderr_log);
          if (!tail.empty()) msg += "; its stderr ends with:\n" + tail;
          throw ProviderError("provisioning::provider::failed", msg, "run the command by hand to see why it stops");
        }
        if (Clock::now() >= deadline)
          throw ProviderError("provisioning::provider::timeout",
                              "local server `" + spec.name + "` did not accept connections on 127.0.0.1:" +
                                  std::to_string(port) + " within " + format_duration(ready_timeout_),
                              "raise [providers.local].ready_timeout, or check the port the command listens on");
        std::this_thread::sleep_for(step);
        step = std::min(step * 2, milliseconds(20));
      }
    }
    return read(dir);
  } catch (...) {
    try {
      stop_and_remove(dir);
    } catch (...) {
    }
    throw;
  }
}

Server LocalProvider::stop_and_remove(const std::string& dir) {
  auto proc = read_process(dir);
  // Its supervisor may be starting it right now: let it record what it started.
  if (!proc) wait_until([&] { return (proc = read_process(dir)).has_value(); }, milliseconds(2000));
  if (proc && proc->pid > 0 && process_alive(proc->pid, proc->start_ticks)) {
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
  if (proc && proc->supervisor_pid > 0) {
    const auto alive = [&] { return process_alive(proc->supervisor_pid, proc->supervisor_start); };
    if (!wait_until([&] { return !alive(); }, kSupervisorExitTimeout)) {
      ::kill(proc->supervisor_pid, SIGKILL);
      wait_until([&] { return !alive(); }, kSupervisorExitTimeout);
    }
  }
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
