#include "core/providers/nu_worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
    : key_(std::move(key)),
      env_(env ? std::make_shared<const ChildEnv>(std::move(*env)) : nullptr) {}

NuWorker::~NuWorker() { stop(); }

void NuWorker::stop() {
  std::lock_guard lock(mutex_);
  if (!child_.reaped()) {
    child_.kill(SIGKILL);
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

  const std::string who = "the Nu worker of provider '" + provider + "': ";
  try {
    int request[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request) != 0)
      throw provider_error("failed", who + "cannot make its socket: " + std::strerror(errno),
                           "the process may be out of file descriptors");
    UniqueFd ours(request[0]), theirs(request[1]);
    Pipe answer = make_pipe(), log = make_pipe();

    SpawnSpec spec;
    spec.argv = {key_.nu_path, "-n", "-I", key_.module_dir + "/nulib", "--stdin", "-c", kProviderWorkerScript};
    spec.env = env_;
    spec.cwd = key_.module_dir;
    spec.in = Redirect::fd(theirs.get());
    spec.out = Redirect::fd(log.write.get());
    spec.err = Redirect::to_stdout();
    spec.pass_fds = {{answer.write.get(), 3}};
    // Its own process group, so a timeout kills whatever the module started too.
    spec.group = ProcessGroup::own;
    child_ = spawn(spec);
    pid_ = child_.pid();
    request_ = std::move(ours);
    answer_ = std::move(answer.read);
    log_ = std::move(log.read);
  } catch (const ResourceError& e) {
    throw provider_error("failed", who + e.what(), "check that Nushell is installed at that path or on PATH");
  }
  ::fcntl(log_.get(), F_SETFL, ::fcntl(log_.get(), F_GETFL) | O_NONBLOCK);
  log_tail_.clear();
}

bool NuWorker::exited() { return child_.exited(); }

void NuWorker::drain_log() {
  if (!log_) return;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(log_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log_tail_.append(buf, static_cast<size_t>(n));
    if (log_tail_.size() > 2 * kLogTailBytes) log_tail_.erase(0, log_tail_.size() - kLogTailBytes);
  }
}

void NuWorker::reap_and_close() {
  drain_log();
  child_.wait();
  pid_ = 0;
  request_.reset();
  answer_.reset();
  log_.reset();
}

std::string NuWorker::describe_exit(const std::string& when) {
  drain_log();
  std::string how = child_.wait().describe();
  reap_and_close();
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

  if (!child_.reaped() && exited()) reap_and_close();  // died since the last call: start anew
  if (child_.reaped()) start(c.provider);
  drain_log();

  const int64_t id = next_id_++;
  nlohmann::ordered_json request = {{"id", id}, {"method", c.method}};
  request["args"] = datum_to_json(c.args);
  request["context"] = datum_to_json(c.context);
  if (!write_all(request_.get(), request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n")) {
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
    pollfd fds[3] = {{answer_.get(), POLLIN, 0}, {log_.get(), POLLIN, 0}, {child_.pidfd(), POLLIN, 0}};
    const int n = ::poll(fds, child_.pidfd() >= 0 ? 3 : 2, static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[1].revents) drain_log();
    if (fds[0].revents) {
      const ssize_t got = ::read(answer_.get(), buf, sizeof buf);
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
    if (child_.pidfd() >= 0 && fds[2].revents) {
      // Exited: take what it wrote before it went, then give up if that holds no line.
      while (true) {
        const ssize_t got = ::read(answer_.get(), buf, sizeof buf);
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
