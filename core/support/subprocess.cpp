#include "core/support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/support/error.hpp"

extern char** environ;

namespace prov {

namespace {

using std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;

/// Closes the descriptor it holds when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

ResourceError spawn_error(const std::string& program, const std::string& why) {
  return ResourceError("provisioning::process::spawn", "cannot start " + program + ": " + why,
                       "check that the program is installed, on PATH and executable");
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// The first executable `name` in `path` (':'-separated; relative entries count from `cwd`).
std::optional<std::string> search_path(const std::string& name, const std::string& path, const std::string& cwd) {
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    std::string candidate;
    if (path[begin] != '/' && !cwd.empty()) (candidate = cwd) += '/';
    if (end == begin)
      candidate += '.';
    else
      candidate.append(path, begin, end - begin);
    candidate += '/';
    candidate += name;
    if (is_executable_file(candidate)) return candidate;
    begin = end + 1;
  }
  return std::nullopt;
}

constexpr const char* kDefaultPath = "/bin:/usr/bin";  // glibc's default when PATH is unset

/// The file `name` names for a child with this process's environment.
std::string find_program_here(const std::string& name, const std::string& cwd) {
  if (name.find('/') != std::string::npos) return name;
  const char* p = std::getenv("PATH");
  const std::string path = p ? p : kDefaultPath;
  if (auto found = search_path(name, path, cwd)) return *found;
  throw spawn_error(name, "not found in PATH (" + path + ")");
}

/// /dev/null, opened once for every child's stdin (and output when there is no log); -1 when
/// it cannot be opened, and then each child opens it itself.
int dev_null() {
  static const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

/// A descriptor the child reads `text` from: an in-memory file, so that writing it can neither
/// block nor deadlock whatever the child does.
int stdin_file(const std::string& text, const std::string& program) {
  const int fd = ::memfd_create("prov-stdin", MFD_CLOEXEC);
  if (fd < 0) throw spawn_error(program, std::string("cannot hold its stdin: ") + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw spawn_error(program, std::string("cannot hold its stdin: ") + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

int open_log(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    throw ResourceError("provisioning::process::log",
                        "cannot open the log file " + path + ": " + std::strerror(errno),
                        "check that its directory exists and is writable");
  return fd;
}

/// Ends the log at `fd`, which has reached the file size limit (RLIMIT_FSIZE), with a line
/// saying that the output was cut there: its last bytes make room for that line.
void cut_log(int fd) {
  static constexpr char marker[] = "\n[output cut here: the log reached the file size limit]\n";
  constexpr off_t len = sizeof marker - 1;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0 || ::ftruncate(fd, size > len ? size - len : 0) != 0) return;
  [[maybe_unused]] const ssize_t n = ::write(fd, marker, static_cast<size_t>(len));
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by default
#else
  (void)pid;
  return -1;
#endif
}

}  // namespace

void set_default_signals(posix_spawnattr_t* attr, short flags) {
  posix_spawnattr_setflags(attr, static_cast<short>(flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &all);
}

GroupSpawnAttributes::GroupSpawnAttributes() {
  posix_spawnattr_init(&attr_);
  set_default_signals(&attr_, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr_, 0);
}

GroupSpawnAttributes::~GroupSpawnAttributes() { posix_spawnattr_destroy(&attr_); }

Environment current_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

std::vector<char*> to_exec_array(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

ChildEnv::ChildEnv(Environment vars) : vars_(std::move(vars)) {
  strings_.reserve(vars_.size());
  for (const auto& [k, v] : vars_) strings_.push_back(k + "=" + v);
  envp_ = to_exec_array(strings_);
  const auto it = vars_.find("PATH");
  const std::string path = it == vars_.end() ? kDefaultPath : it->second;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    if (end == begin || path[begin] != '/') relative_path_ = true;
    begin = end + 1;
  }
}

std::string ChildEnv::cache_key(const std::string& name, const std::string& cwd) const {
  std::string key = name;
  if (relative_path_) {
    key.push_back('\0');
    key.append(cwd);
  }
  return key;
}

std::string ChildEnv::find_program(const std::string& name, const std::string& cwd) const {
  if (name.find('/') != std::string::npos) return name;
  const std::string key = cache_key(name, cwd);
  {
    std::lock_guard l(m_);
    if (auto it = programs_.find(key); it != programs_.end()) return it->second;
    ++lookups_;
  }
  const auto it = vars_.find("PATH");
  const std::string path = it == vars_.end() ? kDefaultPath : it->second;
  std::optional<std::string> found = search_path(name, path, cwd);
  if (!found) throw spawn_error(name, "not found in PATH (" + path + ")");
  std::lock_guard l(m_);
  programs_.emplace(key, *found);
  return *found;
}

void ChildEnv::forget_program(const std::string& name, const std::string& cwd) const {
  std::lock_guard l(m_);
  programs_.erase(cache_key(name, cwd));
}

size_t ChildEnv::lookups() const {
  std::lock_guard l(m_);
  return lookups_;
}

Subprocess::Subprocess(const SubprocessOptions& o) {
  if (o.argv.empty()) throw spawn_error("(nothing)", "the command is empty");
  const std::shared_ptr<const ChildEnv> env =
      o.shared_env ? o.shared_env : o.env ? std::make_shared<const ChildEnv>(*o.env) : nullptr;
  std::string program = env ? env->find_program(o.argv[0], o.cwd) : find_program_here(o.argv[0], o.cwd);

  const bool piped = o.log_fd < 0 && o.open_log;
  Fd own_log{o.log_fd < 0 && !piped && !o.log_path.empty() ? open_log(o.log_path) : -1};
  Fd pipe_out, pipe_in;  // read end, write end
  if (piped) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw spawn_error(o.argv[0], std::string("cannot make a pipe: ") + std::strerror(errno));
    pipe_out.fd = fds[0];
    pipe_in.fd = fds[1];
  }
  const int log = o.log_fd >= 0 ? o.log_fd : piped ? pipe_in.fd : own_log.fd;
  Fd in{o.stdin_text ? stdin_file(*o.stdin_text, o.argv[0]) : -1};
  const int null = dev_null();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in.fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, in.fd, 0);
  else if (null >= 0)
    posix_spawn_file_actions_adddup2(&actions, null, 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (log >= 0 || null >= 0) {
    posix_spawn_file_actions_adddup2(&actions, log >= 0 ? log : null, 1);
    posix_spawn_file_actions_adddup2(&actions, log >= 0 ? log : null, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, o.cwd.c_str());

  // (Naming only the ignored signals for SETSIGDEF would not be cheaper: glibc's child visits
  // every signal.)
  const GroupSpawnAttributes attr;

  std::vector<char*> args = to_exec_array(o.argv);
  char* const* envp = env ? env->envp() : environ;

  started_ = Clock::now();
  int rc = ::posix_spawn(&pid_, program.c_str(), &actions, attr.get(), args.data(), envp);
  if ((rc == ENOENT || rc == EACCES) && o.shared_env && program != o.argv[0]) {
    // The remembered file may have gone since it was found: look once more.
    env->forget_program(o.argv[0], o.cwd);
    try {
      program = env->find_program(o.argv[0], o.cwd);
      started_ = Clock::now();
      rc = ::posix_spawn(&pid_, program.c_str(), &actions, attr.get(), args.data(), envp);
    } catch (const ResourceError&) {
      // Reported below, unless the working directory is the reason.
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    // Checked only now, so that a successful start costs no stat of it.
    if (!o.cwd.empty() && !is_directory(o.cwd))
      throw spawn_error(o.argv[0], "its working directory " + o.cwd + " does not exist");
    throw spawn_error(o.argv[0], std::strerror(rc));
  }
  pidfd_ = open_pidfd(pid_);
  if (piped) {
    ::fcntl(pipe_out.fd, F_SETFL, O_NONBLOCK);
    std::swap(out_, pipe_out.fd);
    open_log_ = o.open_log;
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    reap();
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  if (out_ >= 0) ::close(out_);
}

bool Subprocess::copy_output() {
  char buf[64 * 1024];
  // Bounded, so that a child that never stops writing cannot keep the wait from its timeout.
  for (int chunk = 0; chunk < 16; ++chunk) {
    const ssize_t n = ::read(out_, buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0) return errno == EINTR ? true : errno == EAGAIN;
    constexpr size_t keep = 4096;
    tail_.append(buf + (n > static_cast<ssize_t>(keep) ? n - static_cast<ssize_t>(keep) : 0),
                 std::min(static_cast<size_t>(n), keep));
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
    if (!log_asked_) {
      log_asked_ = true;
      log_ = open_log_();
    }
    for (ssize_t done = 0; log_ >= 0 && !log_cut_ && done < n;) {
      const ssize_t w = ::write(log_, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EFBIG) {  // the file size limit: end the log saying so, drop the rest
        cut_log(log_);
        log_cut_ = true;
      }
      if (w < 0) break;  // the log is best effort; the child must not stall on it
      done += w;
    }
  }
  return true;
}

namespace {
/// `cat`s left copying a daemon's output, reaped once they end.
std::mutex strays_mutex;
std::vector<pid_t> strays;
}  // namespace

void Subprocess::finish_output() {
  if (out_ < 0) return;
  // Another thread's child, between its start and its exec, briefly holds a copy of the pipe
  // too (close-on-exec drops it at the exec): give such copies a moment to go before deciding
  // that a daemon holds it.
  bool held = copy_output();
  for (auto end = Clock::now() + std::chrono::milliseconds(100); held && Clock::now() < end;) {
    pollfd p{out_, POLLIN, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) > 0) held = copy_output();
  }
  if (held) {
    // Something the child started still holds the pipe. Hand the rest to a `cat` in a session
    // of its own: the holder never blocks nor gets SIGPIPE, and its output still lands in the log.
    if (!log_asked_) {
      log_asked_ = true;
      log_ = open_log_();
    }
    const int null = dev_null();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_, 0);
    posix_spawn_file_actions_adddup2(&actions, log_ >= 0 ? log_ : null, 1);
    posix_spawn_file_actions_adddup2(&actions, null, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    char cat[] = "cat";
    char* args[] = {cat, nullptr};
    pid_t pid = -1;
    try {
      const std::string program = find_program_here("cat", "");
      ::fcntl(out_, F_SETFL, 0);  // cat reads it blocking
      if (::posix_spawn(&pid, program.c_str(), &actions, &attr, args, environ) != 0) pid = -1;
    } catch (const ResourceError&) {
      // No cat: the holder's later output is lost, and it may get SIGPIPE.
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    std::lock_guard l(strays_mutex);
    std::erase_if(strays, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
    if (pid > 0) strays.push_back(pid);
  }
  ::close(out_);
  out_ = -1;
}

bool Subprocess::exited_within(nanoseconds d, int wake_fd) {
  if (reaped_) return true;
  const Clock::time_point end =
      d == nanoseconds::max() ? Clock::time_point::max() : Clock::now() + d;
  if (pidfd_ >= 0) {
    while (true) {
      pollfd p[3] = {{pidfd_, POLLIN, 0}, {out_, POLLIN, 0}, {wake_fd, POLLIN, 0}};  // negative fds are skipped
      timespec ts{};
      const timespec* timeout = nullptr;
      if (end != Clock::time_point::max()) {
        const auto left = std::max(nanoseconds(0), end - Clock::now());
        ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
        timeout = &ts;
      }
      const int n = ::ppoll(p, 3, timeout, nullptr);
      if (n > 0 && p[0].revents != 0) return true;
      if (n > 0 && p[2].revents != 0) return false;
      if (n > 0) {
        if (!copy_output()) {
          ::close(out_);
          out_ = -1;
        }
        continue;
      }
      if (n == 0) return false;
      if (errno != EINTR) break;  // fall back to polling below
    }
  }
  // Without a pidfd: ask without reaping, at growing intervals.
  auto step = std::chrono::milliseconds(1);
  while (true) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid != 0)
      return true;
    const auto now = Clock::now();
    if (now >= end) return false;
    const nanoseconds nap = std::min<nanoseconds>(step, end - now);
    if (out_ >= 0) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(nap).count())) > 0 &&
          !copy_output()) {
        ::close(out_);
        out_ = -1;
      }
    } else {
      std::this_thread::sleep_for(nap);
    }
    step = std::min(step * 2, std::chrono::milliseconds(10));
  }
}

void Subprocess::stop_group(nanoseconds grace) {
  // The child is not reaped before SIGKILL goes out, so its pid (the group id) cannot have
  // been reused by then.
  ::kill(-pid_, SIGTERM);
  exited_within(grace);
  ::kill(-pid_, SIGKILL);
}

int Subprocess::reap() {
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (got != pid_) return -1;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

SubprocessResult Subprocess::wait(const SubprocessLimits& limits) {
  if (reaped_) return result_;
  SubprocessResult r;
  // Without a pidfd (exited_within then polls the child), the CancelToken is looked at this often.
  constexpr nanoseconds cancel_poll = std::chrono::milliseconds(20);
  const int cancel_fd = limits.cancel ? limits.cancel->wake_fd() : -1;
  const std::optional<Clock::time_point> deadline =
      limits.timeout.nanos > 0 ? std::optional(started_ + nanoseconds(limits.timeout.nanos))
                               : std::nullopt;
  const nanoseconds grace(std::max<int64_t>(limits.kill_grace.nanos, 0));
  while (true) {
    nanoseconds d = limits.cancel && (pidfd_ < 0 || cancel_fd < 0) ? cancel_poll : nanoseconds::max();
    if (deadline) d = std::min(d, std::max(nanoseconds(0), *deadline - Clock::now()));
    if (exited_within(d, cancel_fd)) break;
    if (limits.cancel && limits.cancel->cancelled()) {
      r.cancelled = true;
      stop_group(grace);
      break;
    }
    if (deadline && Clock::now() >= *deadline) {
      r.timed_out = true;
      stop_group(grace);
      break;
    }
  }
  finish_output();
  r.exit_code = reap();
  r.duration = Duration{std::chrono::duration_cast<nanoseconds>(Clock::now() - started_).count()};
  result_ = r;
  return r;
}

std::optional<SubprocessResult> Subprocess::poll_wait(const SubprocessLimits& limits) {
  if (reaped_) return result_;
  if (out_ >= 0 && !copy_output()) {
    ::close(out_);
    out_ = -1;
  }
  siginfo_t info{};
  const bool exited =
      ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
  const auto now = Clock::now();
  if (!exited) {
    if (!stopping_) {
      const bool cancelled = limits.cancel && limits.cancel->cancelled();
      const bool timed_out =
          !cancelled && limits.timeout.nanos > 0 && now >= started_ + nanoseconds(limits.timeout.nanos);
      if (!cancelled && !timed_out) return std::nullopt;
      stop_.cancelled = cancelled;
      stop_.timed_out = timed_out;
      stopping_ = true;
      kill_at_ = now + nanoseconds(std::max<int64_t>(limits.kill_grace.nanos, 0));
      ::kill(-pid_, SIGTERM);
      return std::nullopt;
    }
    if (killed_ || now < kill_at_) return std::nullopt;
  }
  // As wait()'s stop_group: the group gets SIGKILL once the child ended or the grace ran out,
  // before the child is reaped (so its pid, the group id, cannot have been reused).
  if (stopping_ && !killed_) {
    ::kill(-pid_, SIGKILL);
    killed_ = true;
  }
  if (!exited) return std::nullopt;
  SubprocessResult r = stop_;
  finish_output();
  r.exit_code = reap();
  r.duration = Duration{std::chrono::duration_cast<nanoseconds>(Clock::now() - started_).count()};
  result_ = r;
  return r;
}

std::optional<Clock::time_point> Subprocess::next_wake(const SubprocessLimits& limits) const {
  if (reaped_) return Clock::now();
  std::optional<Clock::time_point> at;
  if (stopping_) {
    if (!killed_) at = kill_at_;
  } else if (limits.timeout.nanos > 0) {
    at = started_ + nanoseconds(limits.timeout.nanos);
  }
  if (pidfd_ < 0) {  // nothing tells of the exit: look again soon
    const auto soon = Clock::now() + std::chrono::milliseconds(10);
    if (!at || soon < *at) at = soon;
  }
  return at;
}

SubprocessResult run_subprocess(const SubprocessOptions& options, const SubprocessLimits& limits) {
  Subprocess p(options);
  return p.wait(limits);
}

}  // namespace prov
