#include "core/providers/nu_worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/providers/nu_worker_script.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/duration.hpp"
#include "core/support/error.hpp"

extern char** environ;

namespace prov {

const char* const kProviderWorkerScript = generated::kProviderWorkerScriptSource;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr size_t kLogTailBytes = 4096;          ///< how much of a worker's output messages quote
constexpr size_t kQuoteBytes = 200;             ///< how much of a bad answer messages quote
constexpr size_t kMaxAnswerBytes = 256u << 20;  ///< longer answer lines are refused
constexpr milliseconds kCancelPoll{20};         ///< how often a wait looks at the CancelToken

ProviderError provider_error(const std::string& code, const std::string& message,
                             const std::string& help) {
  return ProviderError("provisioning::provider::" + code, message, help);
}

/// `s` cut to `n` bytes (at a UTF-8 boundary) with "…" when cut.
std::string truncated(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "…";
}

/// The last lines of a worker's output, trimmed, for a message; empty when there were none.
std::string tail_for_message(const std::string& tail) {
  std::string t = tail;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > 1000) t = "…" + t.substr(t.size() - 1000);
  return t;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// A close-on-exec copy of `fd` numbered 10 or above, replacing it: the child's ends must not
/// sit on 0..3, which the spawn rearranges.
int lift(int fd) {
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return high;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

NuWorker::NuWorker(NuWorkerKey key, std::optional<Environment> env)
    : key_(std::move(key)), env_(std::move(env)) {}

NuWorker::~NuWorker() { stop(); }

void NuWorker::stop() {
  std::lock_guard lock(mutex_);
  if (pid_.load() > 0) {
    ::kill(-pid_.load(), SIGKILL);
    reap_and_close();
  }
}

void NuWorker::kill_now() {
  const pid_t pid = pid_.load();
  if (pid > 0) ::kill(-pid, SIGKILL);
}

void NuWorker::start(const std::string& provider) {
  const std::string module = key_.module_dir + "/nulib/provider.nu";
  struct stat st {};
  if (::stat(module.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw provider_error("failed", "provider '" + provider + "' has no module " + module,
                         "a Nu-module provider exports its commands from nulib/provider.nu");

  int request[2] = {-1, -1}, answer[2] = {-1, -1}, log[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fds : {request, answer, log}) {
      close_fd(fds[0]);
      close_fd(fds[1]);
    }
  };
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request) != 0 ||
      ::pipe2(answer, O_CLOEXEC) != 0 || ::pipe2(log, O_CLOEXEC) != 0) {
    const int err = errno;
    close_all();
    throw provider_error("failed",
                         "cannot start the Nu worker of provider '" + provider + "': " +
                             std::strerror(err),
                         "the process may be out of file descriptors");
  }
  request[1] = lift(request[1]);
  answer[1] = lift(answer[1]);
  log[1] = lift(log[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, request[1], 0);
  posix_spawn_file_actions_adddup2(&actions, log[1], 1);
  posix_spawn_file_actions_adddup2(&actions, log[1], 2);
  posix_spawn_file_actions_adddup2(&actions, answer[1], 3);
  posix_spawn_file_actions_addchdir_np(&actions, key_.module_dir.c_str());

  // Its own process group, so a timeout kills whatever the module started too; no blocked or
  // ignored signals inherited from us.
  const GroupSpawnAttributes attr;

  const std::vector<std::string> argv = {key_.nu_path, "-n", "-I", key_.module_dir + "/nulib",
                                         "--stdin", "-c", kProviderWorkerScript};
  std::vector<std::string> env_strings;
  if (env_)
    for (const auto& [k, v] : *env_) env_strings.push_back(k + "=" + v);
  std::vector<char*> args = to_exec_array(argv);
  std::vector<char*> envp = to_exec_array(env_strings);

  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, key_.nu_path.c_str(), &actions, attr.get(), args.data(),
                                env_ ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  close_fd(request[1]);
  close_fd(answer[1]);
  close_fd(log[1]);
  if (rc != 0) {
    close_all();
    throw provider_error("failed",
                         "cannot start Nu (" + key_.nu_path + ") for provider '" + provider +
                             "': " + std::strerror(rc),
                         "check that Nushell is installed at that path or on PATH");
  }
  pid_ = pid;
#ifdef SYS_pidfd_open
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  request_fd_ = request[0];
  answer_fd_ = answer[0];
  log_fd_ = log[0];
  ::fcntl(log_fd_, F_SETFL, ::fcntl(log_fd_, F_GETFL) | O_NONBLOCK);
  log_tail_.clear();
}

bool NuWorker::exited() {
  const pid_t pid = pid_.load();
  if (pid <= 0) return true;
  if (pidfd_ >= 0) {
    pollfd p{pidfd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid != 0;
}

void NuWorker::drain_log() {
  if (log_fd_ < 0) return;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(log_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log_tail_.append(buf, static_cast<size_t>(n));
    if (log_tail_.size() > 2 * kLogTailBytes) log_tail_.erase(0, log_tail_.size() - kLogTailBytes);
  }
}

void NuWorker::reap_and_close() {
  drain_log();
  const pid_t pid = pid_.load();
  if (pid > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = 0;
  close_fd(pidfd_);
  close_fd(request_fd_);
  close_fd(answer_fd_);
  close_fd(log_fd_);
}

std::string NuWorker::describe_exit(const std::string& when) {
  drain_log();
  const pid_t pid = pid_.load();
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  pid_ = 0;  // reaped: reap_and_close must not wait again
  reap_and_close();
  std::string how = got != pid             ? "ended"
                    : WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                           : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (!when.empty()) how += " " + when;
  const std::string tail = tail_for_message(log_tail_);
  return tail.empty() ? how : how + ": " + tail;
}

std::optional<Clock::time_point> NuWorker::last_used() const {
  const int64_t ns = last_used_.load();
  if (ns == 0) return std::nullopt;
  return Clock::time_point(nanoseconds(ns));
}

Datum NuWorker::call(const NuCall& c) {
  std::lock_guard lock(mutex_);
  struct Used {
    std::atomic<int64_t>& at;
    void mark() { at = std::chrono::duration_cast<nanoseconds>(Clock::now().time_since_epoch()).count(); }
    ~Used() { mark(); }
  } used{last_used_};
  used.mark();
  const std::string who = "provider '" + c.provider + "'";
  const auto started = Clock::now();
  const auto deadline = started + nanoseconds(std::max<int64_t>(c.timeout.nanos, 0));

  if (pid_.load() > 0 && exited()) reap_and_close();  // died since the last call: start anew
  if (pid_.load() == 0) start(c.provider);
  drain_log();

  const int64_t id = next_id_++;
  nlohmann::ordered_json request = {{"id", id}, {"method", c.method}};
  request["args"] = datum_to_json(c.args);
  request["context"] = datum_to_json(c.context);
  if (!write_all(request_fd_, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n")) {
    const std::string how = describe_exit("before reading " + c.method);
    throw provider_error("failed", "the Nu worker of " + who + " " + how,
                         "the worker restarts on the next call; check the module with "
                         "`use provider.nu` in its nulib directory");
  }

  // Read until one whole line has come on the answer channel.
  std::string line;
  char buf[65536];
  while (true) {
    const size_t newline = line.find('\n');
    if (newline != std::string::npos) {
      line.resize(newline);
      break;
    }
    if (c.cancel && c.cancel->cancelled()) {
      kill_now();
      reap_and_close();
      throw provider_error("cancelled", c.method + " of " + who + " was cancelled",
                           "the provider's worker was stopped; it restarts on the next call");
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      kill_now();
      reap_and_close();
      throw provider_error(
          "timeout",
          who + " did not answer " + c.method + " within " + format_duration(c.timeout),
          "its worker was stopped and restarts on the next call; raise `timeout` in "
          "[providers." + c.provider + "] if the provider is just slow");
    }
    auto wait = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    if (c.cancel) wait = std::min(wait, kCancelPoll);
    pollfd fds[3] = {{answer_fd_, POLLIN, 0}, {log_fd_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    const int n = ::poll(fds, pidfd_ >= 0 ? 3 : 2, static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[1].revents) drain_log();
    if (fds[0].revents) {
      const ssize_t got = ::read(answer_fd_, buf, sizeof buf);
      if (got > 0) {
        line.append(buf, static_cast<size_t>(got));
        if (line.size() > kMaxAnswerBytes) {
          kill_now();
          reap_and_close();
          throw provider_error("bad_response",
                               who + " answered " + c.method + " with more than " +
                                   std::to_string(kMaxAnswerBytes >> 20) + " MiB on one line",
                               "its worker was stopped");
        }
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      // The answer channel closed: the worker is gone (or going).
      kill_now();
      const std::string how = describe_exit("before answering " + c.method);
      throw provider_error("failed", "the Nu worker of " + who + " " + how,
                           "the worker restarts on the next call");
    }
    if (pidfd_ >= 0 && fds[2].revents) {
      // Exited: take what it wrote before it went, then give up if that holds no line.
      while (true) {
        const ssize_t got = ::read(answer_fd_, buf, sizeof buf);
        if (got > 0) {
          line.append(buf, static_cast<size_t>(got));
          continue;
        }
        if (got < 0 && errno == EINTR) continue;
        break;
      }
      if (line.find('\n') != std::string::npos) continue;
      kill_now();
      const std::string how = describe_exit("before answering " + c.method);
      throw provider_error("failed", "the Nu worker of " + who + " " + how,
                           "the worker restarts on the next call");
    }
  }

  // One line: {"id": <ours>, "ok": true, "value": …} or {"id": …, "ok": false, "error": {"msg": …}}.
  auto bad = [&](const std::string& why) {
    kill_now();  // out of step with us: start afresh on the next call
    reap_and_close();
    return provider_error("bad_response",
                          who + " answered " + c.method + " with " + why + ": " +
                              truncated(line, kQuoteBytes),
                          "the worker writes one JSON line per request on its fd 3; was something "
                          "else written there?");
  };
  nlohmann::ordered_json answer;
  try {
    answer = nlohmann::ordered_json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw bad("something that is not JSON");
  }
  if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean() ||
      !answer.contains("id") || answer["id"] != id)
    throw bad("a line that is not an answer to it");
  if (!answer["ok"].get<bool>()) {
    std::string msg = "(no message)";
    const auto& error = answer["error"];
    if (error.is_object() && error.contains("msg") && error["msg"].is_string())
      msg = error["msg"].get<std::string>();
    throw provider_error("failed", who + " failed in " + c.method + ": " + msg,
                         "the message is the provider module's own");
  }
  try {
    return datum_from_json(answer.contains("value") ? answer["value"] : nlohmann::ordered_json());
  } catch (const Error& e) {
    throw bad(std::string("a value that does not read back (") + e.what() + ")");
  }
}

NuWorkerPool& NuWorkerPool::shared() {
  // Never destroyed: threads may still hold workers while static destructors run.
  static NuWorkerPool* pool = [] {
    auto* p = new NuWorkerPool;
    std::atexit([] { NuWorkerPool::shared().kill_all_now(); });
    return p;
  }();
  return *pool;
}

std::shared_ptr<NuWorker> NuWorkerPool::worker(const NuWorkerKey& key,
                                               const std::function<std::optional<Environment>()>& env) {
  std::lock_guard lock(mutex_);
  auto& w = workers_[key];
  if (!w) w = std::make_shared<NuWorker>(key, env ? env() : std::nullopt);
  return w;
}

void NuWorkerPool::clear() {
  std::map<NuWorkerKey, std::shared_ptr<NuWorker>> gone;
  {
    std::lock_guard lock(mutex_);
    gone.swap(workers_);
  }
  for (auto& [key, w] : gone) w->stop();
}

std::optional<Clock::time_point> NuWorkerPool::last_used() {
  std::lock_guard lock(mutex_);
  std::optional<Clock::time_point> latest;
  for (auto& [key, w] : workers_)
    if (auto t = w->last_used(); t && w->pid() > 0 && (!latest || *t > *latest)) latest = t;
  return latest;
}

void NuWorkerPool::kill_all_now() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  for (auto& [key, w] : workers_) w->kill_now();
}

}  // namespace prov
