#include "core/support/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/support/error.hpp"
#include "core/support/proc_stat.hpp"

extern char** environ;

namespace prov {

namespace {

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

/// /dev/null, opened once for every child; -1 when it cannot be opened, and then each child
/// opens it itself.
int dev_null() {
  static const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

/// The posix_spawn attributes every child starts with: an empty signal mask, every signal at
/// its default disposition (an ignored SIGPIPE or SIGINT of ours must not leak into it), and
/// the process group asked for. Destroyed with the object.
class SpawnAttributes {
 public:
  explicit SpawnAttributes(ProcessGroup group) {
    posix_spawnattr_init(&attr_);
    // (Naming only the ignored signals for SETSIGDEF would not be cheaper: glibc's child
    // visits every signal.)
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (group == ProcessGroup::own) flags |= POSIX_SPAWN_SETPGROUP;
    if (group == ProcessGroup::own_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr_, flags);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    // glibc's sigfillset leaves out the real-time signals it keeps for itself (32 up to
    // SIGRTMIN), and its posix_spawn sets those to SIG_IGN in the child when we handle them,
    // which exec keeps: the child would start with them ignored. Named here, they start at
    // their default like every other signal.
#ifdef __GLIBC__
    for (int sig = 32; sig < SIGRTMIN; ++sig) {
      constexpr size_t bits = 8 * sizeof(unsigned long);
      all.__val[static_cast<size_t>(sig - 1) / bits] |= 1UL << (static_cast<size_t>(sig - 1) % bits);
    }
#endif
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setpgroup(&attr_, 0);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

/// posix_spawn file actions, destroyed with the object.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&fa_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

}  // namespace

/// Turns a SpawnSpec into posix_spawn's arguments and starts it. Holds what it opened for the
/// child (log files, stdin text, copies of descriptors) until the child has started.
class Spawner {
 public:
  explicit Spawner(const SpawnSpec& spec) : s_(spec) {}
  Child run();

 private:
  /// Arranges descriptor `target` (0, 1 or 2) of the child from `r`.
  void redirect(const Redirect& r, int target);
  /// `fd`, or a close-on-exec copy of it at floor_ or above when it is below: the descriptors
  /// the child's file actions read must not be among those they write.
  int lifted(int fd);
  const std::string& program_name() const { return s_.argv[0]; }

  const SpawnSpec& s_;
  FileActions actions_;
  int floor_ = 3;               ///< the lowest descriptor the child does not get
  std::vector<UniqueFd> held_;  ///< opened for the child; closed once it has started
};

int Spawner::lifted(int fd) {
  if (fd >= floor_) return fd;
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, floor_));
  if (!copy) throw spawn_error(program_name(), std::string("cannot hand it a descriptor: ") + std::strerror(errno));
  held_.push_back(std::move(copy));
  return held_.back().get();
}

void Spawner::redirect(const Redirect& r, int target) {
  int source = -1;
  switch (r.kind_) {
    case Redirect::Kind::null: source = dev_null(); break;
    case Redirect::Kind::fd:
      source = r.fd_;
      if (source < 0) throw spawn_error(program_name(), "descriptor " + std::to_string(target) + " was given none");
      break;
    case Redirect::Kind::append: {
      UniqueFd f(::open(r.data_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!f)
        throw ResourceError("provisioning::process::log",
                            "cannot open the log file " + r.data_ + ": " + std::strerror(errno),
                            "check that its directory exists and is writable");
      source = f.get();
      held_.push_back(std::move(f));
      break;
    }
    case Redirect::Kind::text: {
      // An in-memory file, so that writing it can neither block nor deadlock whatever the child does.
      UniqueFd f(::memfd_create("prov-stdin", MFD_CLOEXEC));
      if (!f) throw spawn_error(program_name(), std::string("cannot hold its stdin: ") + std::strerror(errno));
      for (size_t done = 0; done < r.data_.size();) {
        const ssize_t n = ::write(f.get(), r.data_.data() + done, r.data_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw spawn_error(program_name(), std::string("cannot hold its stdin: ") + std::strerror(errno));
        done += static_cast<size_t>(n);
      }
      ::lseek(f.get(), 0, SEEK_SET);
      source = f.get();
      held_.push_back(std::move(f));
      break;
    }
    case Redirect::Kind::to_stdout:
      if (target != 2) throw spawn_error(program_name(), "only stderr can go where stdout goes");
      posix_spawn_file_actions_adddup2(actions_.get(), 1, 2);
      return;
  }
  if (source < 0)
    posix_spawn_file_actions_addopen(actions_.get(), target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
  else
    posix_spawn_file_actions_adddup2(actions_.get(), lifted(source), target);
}

Child Spawner::run() {
  if (s_.argv.empty()) throw spawn_error("(nothing)", "the command is empty");
  for (const auto& [ours, theirs] : s_.pass_fds) {
    if (theirs < 3 || ours < 0)
      throw spawn_error(program_name(),
                        "descriptor " + std::to_string(ours) + " cannot be passed as " + std::to_string(theirs));
    floor_ = std::max(floor_, theirs + 1);
  }
  std::string program = s_.env ? s_.env->find_program(s_.argv[0], s_.cwd) : find_program_here(s_.argv[0], s_.cwd);

  redirect(s_.in, 0);
  redirect(s_.out, 1);
  redirect(s_.err, 2);
  for (const auto& [ours, theirs] : s_.pass_fds) posix_spawn_file_actions_adddup2(actions_.get(), lifted(ours), theirs);
  // Whatever this process opened without close-on-exec (another thread, a library) stays ours.
  for (int fd = 3; fd < floor_; ++fd)
    if (std::none_of(s_.pass_fds.begin(), s_.pass_fds.end(), [fd](const auto& p) { return p.second == fd; }))
      posix_spawn_file_actions_addclose(actions_.get(), fd);  // (not open: ignored)
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(actions_.get(), floor_);
#endif
  if (!s_.cwd.empty()) posix_spawn_file_actions_addchdir_np(actions_.get(), s_.cwd.c_str());
  const SpawnAttributes attr(s_.group);

  std::vector<char*> args = to_exec_array(s_.argv);
  char* const* envp = s_.env ? s_.env->envp() : environ;
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), actions_.get(), attr.get(), args.data(), envp);
  if ((rc == ENOENT || rc == EACCES) && s_.env && program != s_.argv[0]) {
    // The remembered file may have gone since it was found: look once more.
    s_.env->forget_program(s_.argv[0], s_.cwd);
    try {
      program = s_.env->find_program(s_.argv[0], s_.cwd);
      rc = ::posix_spawn(&pid, program.c_str(), actions_.get(), attr.get(), args.data(), envp);
    } catch (const ResourceError&) {
      // Reported below, unless the working directory is the reason.
    }
  }
  if (rc != 0) {
    // Checked only now, so that a successful start costs no stat of it.
    if (!s_.cwd.empty() && !is_directory(s_.cwd))
      throw spawn_error(program_name(), "its working directory " + s_.cwd + " does not exist");
    throw spawn_error(program_name(), std::strerror(rc));
  }
  Child child;
  child.pid_ = pid;
  child.pidfd_ = open_pidfd(pid);
  child.leads_group_ = s_.group != ProcessGroup::inherit;
  return child;
}

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

Redirect Redirect::fd(int fd) {
  Redirect r(Kind::fd);
  r.fd_ = fd;
  return r;
}

Redirect Redirect::append(std::string path) {
  Redirect r(Kind::append);
  r.data_ = std::move(path);
  return r;
}

Redirect Redirect::text(std::string data) {
  Redirect r(Kind::text);
  r.data_ = std::move(data);
  return r;
}

ExitStatus ExitStatus::from_wait_status(int status) {
  ExitStatus s;
  if (WIFEXITED(status))
    s.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    s.signal = WTERMSIG(status);
  return s;
}

std::string ExitStatus::describe() const {
  if (signal) return "was killed by signal " + std::to_string(signal);
  if (code >= 0) return "exited with status " + std::to_string(code);
  return "ended";
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, 0)),
      pidfd_(std::move(o.pidfd_)),
      leads_group_(o.leads_group_),
      status_(std::exchange(o.status_, std::nullopt)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    kill_and_reap();
    pid_ = std::exchange(o.pid_, 0);
    pidfd_ = std::move(o.pidfd_);
    leads_group_ = o.leads_group_;
    status_ = std::exchange(o.status_, std::nullopt);
  }
  return *this;
}

Child::~Child() { kill_and_reap(); }

void Child::kill_and_reap() {
  if (reaped()) return;
  kill(SIGKILL);
  wait();
}

bool Child::exited() const {
  if (reaped()) return true;
  if (pidfd_) {
    pollfd p{pidfd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  siginfo_t info{};
  const int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  // ECHILD: this process ignores SIGCHLD and the system has reaped it already.
  return (rc == 0 && info.si_pid != 0) || (rc < 0 && errno == ECHILD);
}

std::optional<ExitStatus> Child::try_wait() {
  if (reaped()) return status_.value_or(ExitStatus{});
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got == 0) return std::nullopt;
  status_ = got == pid_ ? ExitStatus::from_wait_status(status) : ExitStatus{};
  pidfd_.reset();
  return status_;
}

ExitStatus Child::wait() {
  if (reaped()) return status_.value_or(ExitStatus{});
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  status_ = got == pid_ ? ExitStatus::from_wait_status(status) : ExitStatus{};
  pidfd_.reset();
  return *status_;
}

void Child::kill(int sig) const {
  if (reaped()) return;
  ::kill(leads_group_ ? -pid_ : pid_, sig);
}

Child spawn(const SpawnSpec& spec) { return Spawner(spec).run(); }

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw ResourceError("provisioning::process::spawn", std::string("cannot make a pipe: ") + std::strerror(errno),
                        "the process may be out of file descriptors");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace prov
