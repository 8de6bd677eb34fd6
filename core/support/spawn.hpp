#pragma once
/// Starting a process: the one way every child of this program starts (operation commands,
/// captured runs, the workflow runner, the `local` supervisor and its server, Nu workers). A
/// SpawnSpec says what runs, in which environment and folder, with which descriptors and in
/// which process group; spawn() gives every child the same set-up: an empty signal mask and
/// every signal at its default disposition (whatever this process ignores or blocks), stdin
/// from /dev/null unless the spec gives one, and no descriptor above 2 but those the spec
/// passes. A Child owns the started process until it is reaped; ExitStatus says how it ended.

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/support/unique_fd.hpp"

namespace prov {

/// A process environment: name → value.
using Environment = std::map<std::string, std::string>;

/// This process's own environment.
Environment current_environment();

/// Pointers to `strings` followed by a null pointer: the array exec and posix_spawn take.
/// Valid while `strings` lives unchanged.
std::vector<char*> to_exec_array(const std::vector<std::string>& strings);

/// A child's whole environment, prepared once for any number of children: the envp block is
/// built once and each program is looked up in its PATH once. Thread-safe; share it.
class ChildEnv {
 public:
  explicit ChildEnv(Environment vars);
  ChildEnv(const ChildEnv&) = delete;
  ChildEnv& operator=(const ChildEnv&) = delete;

  const Environment& vars() const { return vars_; }
  /// The null-terminated "NAME=value" array posix_spawn takes; valid while this lives.
  char* const* envp() const { return envp_.data(); }

  /// The file `name` names for a child started in `cwd`: as given when it holds a '/', else
  /// the first executable match in PATH (relative entries count from `cwd`). Remembered:
  /// later calls with the same name (and cwd, when PATH has relative entries) answer without
  /// touching the file system. Throws ResourceError `provisioning::process::spawn` when none.
  std::string find_program(const std::string& name, const std::string& cwd) const;
  /// Drops what find_program remembered for `name` in `cwd` (the file went away).
  void forget_program(const std::string& name, const std::string& cwd) const;
  /// How many lookups went to the file system so far.
  size_t lookups() const;

 private:
  std::string cache_key(const std::string& name, const std::string& cwd) const;

  Environment vars_;
  std::vector<std::string> strings_;  ///< "NAME=value" for each of vars_
  std::vector<char*> envp_;           ///< into strings_, then nullptr
  bool relative_path_ = false;        ///< PATH has a relative entry: lookups depend on the cwd
  mutable std::mutex m_;
  mutable std::unordered_map<std::string, std::string> programs_;  ///< cache_key → file
  mutable size_t lookups_ = 0;
};

/// Where one of a child's standard descriptors comes from.
class Redirect {
 public:
  /// /dev/null: the default of all three.
  static Redirect null() { return Redirect(Kind::null); }
  /// A descriptor of ours, which must stay open until spawn() returns; the child gets a copy.
  static Redirect fd(int fd);
  /// The file at `path`, opened to append (created 0600, never through a symbolic link).
  static Redirect append(std::string path);
  /// For stdin: the child reads exactly `data`, then the end (an in-memory file, so that
  /// nothing can block on writing it).
  static Redirect text(std::string data);
  /// For stderr: wherever stdout goes.
  static Redirect to_stdout() { return Redirect(Kind::to_stdout); }

  Redirect() = default;

 private:
  friend class Spawner;
  enum class Kind { null, fd, append, text, to_stdout };
  explicit Redirect(Kind k) : kind_(k) {}
  Kind kind_ = Kind::null;
  int fd_ = -1;       ///< Kind::fd
  std::string data_;  ///< the path (Kind::append) or the text (Kind::text)
};

/// The process group a child starts in.
enum class ProcessGroup {
  inherit,      ///< ours: it is signalled with us (a short-lived helper)
  own,          ///< a group of its own, whose id is its pid: stopped as one with all it starts
  own_session,  ///< a session (and group) of its own: cut off from our terminal and group
};

/// What to start, and how.
struct SpawnSpec {
  std::vector<std::string> argv;        ///< argv[0] is looked up in the child's PATH unless it has a '/'
  std::shared_ptr<const ChildEnv> env;  ///< the child's whole environment; nullptr: this process's
  std::string cwd;                      ///< the child's working directory; empty: ours
  Redirect in;                          ///< stdin; /dev/null unless given
  Redirect out;                         ///< stdout; /dev/null unless given
  Redirect err;                         ///< stderr; /dev/null unless given
  /// Descriptors of ours the child gets beyond 0..2, as {ours, its number there (>= 3)}, such
  /// as a readiness pipe as descriptor 3. Ours must stay open until spawn() returns.
  std::vector<std::pair<int, int>> pass_fds;
  ProcessGroup group = ProcessGroup::inherit;
};

/// How a process ended: made from a wait status by one conversion, from_wait_status.
struct ExitStatus {
  int code = -1;   ///< its exit status when it exited; -1 when a signal ended it or the status was lost
  int signal = 0;  ///< the signal that ended it; 0 when none did

  /// The status waitpid() gave.
  static ExitStatus from_wait_status(int status);
  /// The status could not be had (SIGCHLD ignored here: the system reaped the child).
  bool lost() const { return code < 0 && signal == 0; }
  /// The shell's number: the exit status, 128 + the signal, or -1 when lost.
  int exit_code() const { return signal ? 128 + signal : code; }
  /// "exited with status 1", "was killed by signal 9", or "ended" when lost.
  std::string describe() const;
};

/// A started process of ours, until it is reaped. Waits only for its own pid, so any number
/// may run from any threads (each Child used by one thread at a time). A Child destroyed
/// before it was reaped kills its process (with its group, when it leads one) and reaps it:
/// no strays, no zombies.
class Child {
 public:
  Child() = default;  ///< no process
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  /// Its pid (also its group id when it leads a group); 0 for no process. Kept after reaping.
  pid_t pid() const { return pid_; }
  /// Readable once it has ended (a pidfd); -1 where the kernel has none, or once reaped.
  int pidfd() const { return pidfd_.get(); }
  /// True once wait() or try_wait() collected its status (or there is no process).
  bool reaped() const { return pid_ <= 0 || status_.has_value(); }

  /// True once it has ended; never reaps, so its pid stays its own meanwhile.
  bool exited() const;
  /// Its status, reaping it, when it has ended; nullopt while it runs. Once reaped, the same.
  std::optional<ExitStatus> try_wait();
  /// Waits for it to end and reaps it; later calls return the same status.
  ExitStatus wait();
  /// Sends `sig` to it, or to its whole group when it leads one. Nothing once reaped (its pid
  /// may be another process's by then).
  void kill(int sig) const;

 private:
  friend class Spawner;
  void kill_and_reap();

  pid_t pid_ = 0;
  UniqueFd pidfd_;
  bool leads_group_ = false;          ///< started in a group or session of its own
  std::optional<ExitStatus> status_;  ///< set once reaped
};

/// Starts `spec`. Throws ResourceError `provisioning::process::spawn` when it cannot start (empty
/// argv, program not found or not executable, missing cwd, out of descriptors),
/// `provisioning::process::log` when a file to append to cannot be opened.
Child spawn(const SpawnSpec& spec);

/// The two ends of a pipe, both close-on-exec.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

/// A new pipe. Throws ResourceError `provisioning::process::spawn` when there is none to have.
Pipe make_pipe();

}  // namespace prov
