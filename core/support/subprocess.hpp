#pragma once
/// Supervised processes: a program started from an argv array in a process group of its own,
/// its stdout and stderr appended to one log file, waited for with a timeout and a
/// CancelToken. On timeout or cancel the whole group gets SIGTERM, then SIGKILL after a grace
/// period, so nothing the program started outlives it. The long-running sibling of
/// run_captured (process.hpp); it only runs processes and knows nothing of scheduling. The
/// process itself starts and ends as every child does (spawn.hpp).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/spawn.hpp"

namespace prov {

/// Which of a child's streams a piece of its output came from; `note`: a line of the log's own.
enum class OutputStream { out, err, note };

/// What to start and where its output goes.
struct SubprocessOptions {
  std::vector<std::string> argv;  ///< argv[0] is looked up in the child's PATH unless it has a '/'
  std::optional<Environment> env;  ///< the child's whole environment; nullopt: this process's
  std::shared_ptr<const ChildEnv> shared_env;  ///< when set, used instead of `env`: one prepared for many children
  std::string cwd;                 ///< the child's working directory; empty: this process's
  std::optional<std::string> stdin_text;  ///< what the child reads on stdin; nullopt: /dev/null
  std::string log_path;  ///< stdout and stderr, both appended here (0600 when created); empty: discarded
  int log_fd = -1;       ///< when >= 0, stdout and stderr go to this descriptor instead of log_path
  /// When set (and log_fd < 0), output goes through a pipe and this is called at its first
  /// byte for the descriptor to append it to (-1: discard), so a silent child creates no log.
  /// A log that reaches the file size limit (EFBIG; SIGXFSZ must be ignored) ends with a line
  /// saying the output was cut there, and the rest is read and dropped: the child goes on.
  /// A child that leaves a process holding its output (a daemon) gets the log opened at its
  /// exit and a `cat` that copies the rest, so the holder never blocks nor gets SIGPIPE.
  std::function<int()> open_log;
  /// When > 0 (with open_log): stdout goes through a pipe of its own, apart from stderr, and its
  /// first keep_stdout bytes are kept (stdout_text()); both streams still go to the log.
  size_t keep_stdout = 0;
  /// When set (with open_log): stdout and stderr go through pipes of their own, and each piece
  /// read goes to the log as this returns it (an operation's records, op_log.hpp), as does the
  /// line saying that the log was cut. Unset: the bytes as they are.
  std::function<std::string(OutputStream, std::string_view)> frame_output;
};

/// How long to let a process run and how to stop it.
struct SubprocessLimits {
  Duration timeout{0};              ///< 0: no limit
  CancelToken* cancel = nullptr;    ///< when it fires, the process is stopped
  Duration kill_grace{5'000'000'000};  ///< between SIGTERM and SIGKILL
};

/// How a supervised process ended.
struct SubprocessResult {
  int exit_code = 0;  ///< the exit status, or 128 + signal number when a signal ended it; -1 when
                      ///< the status was lost (this process ignores SIGCHLD)
  bool timed_out = false;  ///< stopped because the timeout ran out
  bool cancelled = false;  ///< stopped because the CancelToken fired
  Duration duration;       ///< from start to reaping
};

/// One running child. Waits only for its own pid, so any number may run from any threads.
class Subprocess {
 public:
  /// Starts the program. Throws ResourceError `provisioning::process::spawn` when it cannot be
  /// started (not found, not executable, missing cwd), `provisioning::process::log` when the
  /// log file cannot be opened.
  explicit Subprocess(const SubprocessOptions& options);
  /// A child never waited for is killed with its group and reaped: no strays, no zombies.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  /// The child's pid, which is also its process group id.
  pid_t pid() const { return child_.pid(); }

  /// Waits for the child to end, stopping its group on timeout (counted from the start) or
  /// cancellation; later calls return the same result. Children the program left behind after exiting by itself are not
  /// touched (a command may start a daemon on purpose).
  SubprocessResult wait(const SubprocessLimits& limits);

  /// For waiting on many children in one poll loop (instead of wait()): the child's pidfd,
  /// readable once it exits (-1 where pidfd_open is missing: poll it at next_wake() instead),
  /// and the read end of its output pipe (-1 when output does not go through one).
  int pidfd() const { return child_.pidfd(); }
  int output_fd() const { return out_; }
  /// The read end of the stdout pipe when keep_stdout asked for one; else -1.
  int stdout_fd() const { return stdout_; }
  /// One step of wait() that never blocks on the child: copies the output the pipe holds; on
  /// timeout or cancellation sends SIGTERM to the group, and SIGKILL once the grace has run out;
  /// once the child has exited, finishes as wait() does and returns its result (later calls,
  /// and wait(), return the same). nullopt while it runs.
  std::optional<SubprocessResult> poll_wait(const SubprocessLimits& limits);
  /// When poll_wait() is due though no descriptor became readable (the timeout, the end of
  /// the kill grace, or soon when there is no pidfd); nullopt: only a descriptor can wake it.
  std::optional<std::chrono::steady_clock::time_point> next_wake(const SubprocessLimits& limits) const;
  /// The last bytes (at most 4 KiB) of the output that went through the pipe (open_log).
  const std::string& output_tail() const { return tail_; }
  /// What the child wrote to stdout, up to keep_stdout bytes (keep_stdout set).
  const std::string& stdout_text() const { return stdout_text_; }
  /// True when the child wrote more than keep_stdout bytes to stdout (the rest went to the log only).
  bool stdout_overflowed() const { return stdout_overflow_; }

 private:
  /// True once the child has exited (reaped or not) within `d`; never reaps it. Copies output
  /// from the pipe meanwhile. Returns false early when `wake_fd` (>= 0) becomes readable.
  bool exited_within(std::chrono::nanoseconds d, int wake_fd = -1);
  /// Copies what pipe `fd` (out_ or stdout_) holds now to the log; false once it is at its end.
  bool copy_output(int fd);
  /// Copies what both pipes hold now; closes a pipe that is at its end.
  void copy_outputs();
  /// After the child's exit: copies what is left, and when something still holds a pipe's
  /// other end, leaves the rest to a `cat` of its own.
  void finish_output();
  void finish_pipe(int& fd);
  /// SIGTERM to the group, up to `grace` for the child to end, then SIGKILL to the group.
  void stop_group(std::chrono::nanoseconds grace);
  /// Collects the child's status; the pid is free for reuse afterwards.
  int reap();

  Child child_;     ///< in a process group of its own
  int out_ = -1;    ///< the pipe's read end (non-blocking) while output goes through one; else -1
  int stdout_ = -1;  ///< stdout's own pipe (keep_stdout), non-blocking; else -1
  size_t keep_stdout_ = 0;
  std::string stdout_text_;  ///< stdout's first keep_stdout_ bytes
  bool stdout_overflow_ = false;
  int log_ = -1;    ///< where the pipe's bytes go once open_log_ gave it; -1: not asked yet
  bool log_asked_ = false;
  bool log_cut_ = false;  ///< the log reached the file size limit and was cut: nothing more goes to it
  std::function<int()> open_log_;
  std::function<std::string(OutputStream, std::string_view)> frame_;  ///< frame_output
  SubprocessResult result_;  ///< what wait() returned, once the child is reaped
  std::string tail_;         ///< the last output bytes (output_tail)
  /// poll_wait(): why the group is being stopped (timed_out / cancelled) once stopping_, and
  /// when SIGKILL follows the SIGTERM.
  bool stopping_ = false;
  bool killed_ = false;
  SubprocessResult stop_;
  std::chrono::steady_clock::time_point kill_at_;
  std::chrono::steady_clock::time_point started_;
};

/// Starts `options` and waits for it under `limits`.
SubprocessResult run_subprocess(const SubprocessOptions& options, const SubprocessLimits& limits);

}  // namespace prov
