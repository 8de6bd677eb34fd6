#include "core/support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>

#include "core/support/error.hpp"

namespace prov {

namespace {

using std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;

/// Ends the log at `fd`, which has reached the file size limit (RLIMIT_FSIZE), with a line
/// saying that the output was cut there: its last bytes make room for that line.
void cut_log(int fd, const std::function<std::string(OutputStream, std::string_view)>& frame) {
  constexpr std::string_view note = "[output cut here: the log reached the file size limit]\n";
  const std::string marker = "\n" + (frame ? frame(OutputStream::note, note) : std::string(note));
  const off_t len = static_cast<off_t>(marker.size());
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0 || ::ftruncate(fd, size > len ? size - len : 0) != 0) return;
  [[maybe_unused]] const ssize_t n = ::write(fd, marker.data(), marker.size());
}

}  // namespace

Subprocess::Subprocess(const SubprocessOptions& o) {
  SpawnSpec spec;
  spec.argv = o.argv;
  spec.env = o.shared_env ? o.shared_env : o.env ? std::make_shared<const ChildEnv>(*o.env) : nullptr;
  spec.cwd = o.cwd;
  if (o.stdin_text) spec.in = Redirect::text(*o.stdin_text);
  const bool piped = o.log_fd < 0 && o.open_log;
  Pipe pipe, out_pipe;
  if (o.log_fd >= 0) {
    spec.out = Redirect::fd(o.log_fd);
  } else if (piped) {
    pipe = make_pipe();
    spec.out = Redirect::fd(pipe.write.get());
  } else if (!o.log_path.empty()) {
    spec.out = Redirect::append(o.log_path);
  }
  spec.err = Redirect::to_stdout();
  if (piped && (o.keep_stdout > 0 || o.frame_output)) {
    out_pipe = make_pipe();
    spec.out = Redirect::fd(out_pipe.write.get());
    spec.err = Redirect::fd(pipe.write.get());
    keep_stdout_ = o.keep_stdout;
  }
  spec.group = ProcessGroup::own;
  started_ = Clock::now();
  child_ = spawn(spec);
  if (piped) {
    ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK);
    out_ = pipe.read.release();
    open_log_ = o.open_log;
    frame_ = o.frame_output;
  }
  if (out_pipe.read) {
    ::fcntl(out_pipe.read.get(), F_SETFL, O_NONBLOCK);
    stdout_ = out_pipe.read.release();
  }
}

Subprocess::~Subprocess() {
  // child_, never waited for, is killed with its group and reaped as it goes.
  if (out_ >= 0) ::close(out_);
  if (stdout_ >= 0) ::close(stdout_);
}

void Subprocess::copy_outputs() {
  // stdout first, as finish_output: what a child writes to both at once keeps that order in
  // the log (the two pipes cannot tell which came first).
  for (int* fd : {&stdout_, &out_})
    if (*fd >= 0 && !copy_output(*fd)) {
      ::close(*fd);
      *fd = -1;
    }
}

bool Subprocess::copy_output(int fd) {
  char buf[64 * 1024];
  // Bounded, so that a child that never stops writing cannot keep the wait from its timeout.
  for (int chunk = 0; chunk < 16; ++chunk) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0) return errno == EINTR ? true : errno == EAGAIN;
    if (fd == stdout_) {
      const size_t room = keep_stdout_ - std::min(keep_stdout_, stdout_text_.size());
      stdout_text_.append(buf, std::min(room, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) > room) stdout_overflow_ = true;
    }
    constexpr size_t keep = 4096;
    tail_.append(buf + (n > static_cast<ssize_t>(keep) ? n - static_cast<ssize_t>(keep) : 0),
                 std::min(static_cast<size_t>(n), keep));
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
    if (!log_asked_) {
      log_asked_ = true;
      log_ = open_log_();
    }
    std::string framed;
    std::string_view out(buf, static_cast<size_t>(n));
    if (frame_ && log_ >= 0 && !log_cut_) {
      framed = frame_(fd == stdout_ ? OutputStream::out : OutputStream::err, out);
      out = framed;
    }
    for (size_t done = 0; log_ >= 0 && !log_cut_ && done < out.size();) {
      const ssize_t w = ::write(log_, out.data() + done, out.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EFBIG) {  // the file size limit: end the log saying so, drop the rest
        cut_log(log_, frame_);
        log_cut_ = true;
      }
      if (w < 0) break;  // the log is best effort; the child must not stall on it
      done += static_cast<size_t>(w);
    }
  }
  return true;
}

namespace {
/// `cat`s left copying a daemon's output, reaped once they end. Never destroyed: a cat still
/// copying when this process exits goes on.
std::mutex strays_mutex;
std::vector<Child>& strays = *new std::vector<Child>;
}  // namespace

void Subprocess::finish_output() {
  // stdout first: what it holds is the result, and a daemon holding it gets the same `cat`.
  finish_pipe(stdout_);
  finish_pipe(out_);
}

void Subprocess::finish_pipe(int& fd) {
  if (fd < 0) return;
  // Another thread's child, between its start and its exec, briefly holds a copy of the pipe
  // too (close-on-exec drops it at the exec): give such copies a moment to go before deciding
  // that a daemon holds it.
  bool held = copy_output(fd);
  for (auto end = Clock::now() + std::chrono::milliseconds(100); held && Clock::now() < end;) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) > 0) held = copy_output(fd);
  }
  if (held) {
    // Something the child started still holds the pipe. Hand the rest to a `cat` in a session
    // of its own: the holder never blocks nor gets SIGPIPE, and its output still lands in the log.
    if (!log_asked_) {
      log_asked_ = true;
      log_ = open_log_();
    }
    SpawnSpec cat;
    cat.argv = {"cat"};
    cat.in = Redirect::fd(fd);
    if (log_ >= 0) cat.out = Redirect::fd(log_);
    cat.group = ProcessGroup::own_session;
    std::optional<Child> started;
    try {
      ::fcntl(fd, F_SETFL, 0);  // cat reads it blocking
      started = spawn(cat);
    } catch (const ResourceError&) {
      // No cat: the holder's later output is lost, and it may get SIGPIPE.
    }
    std::lock_guard l(strays_mutex);
    std::erase_if(strays, [](Child& c) { return c.try_wait().has_value(); });
    if (started) strays.push_back(std::move(*started));
  }
  ::close(fd);
  fd = -1;
}

bool Subprocess::exited_within(nanoseconds d, int wake_fd) {
  if (child_.reaped()) return true;
  const Clock::time_point end =
      d == nanoseconds::max() ? Clock::time_point::max() : Clock::now() + d;
  if (child_.pidfd() >= 0) {
    while (true) {
      pollfd p[4] = {{child_.pidfd(), POLLIN, 0},
                     {wake_fd, POLLIN, 0},
                     {out_, POLLIN, 0},
                     {stdout_, POLLIN, 0}};  // negative fds are skipped
      timespec ts{};
      const timespec* timeout = nullptr;
      if (end != Clock::time_point::max()) {
        const auto left = std::max(nanoseconds(0), end - Clock::now());
        ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
        timeout = &ts;
      }
      const int n = ::ppoll(p, 4, timeout, nullptr);
      if (n > 0 && p[0].revents != 0) return true;
      if (n > 0 && p[1].revents != 0) return false;
      if (n > 0) {
        copy_outputs();
        continue;
      }
      if (n == 0) return false;
      if (errno != EINTR) break;  // fall back to polling below
    }
  }
  // Without a pidfd: ask without reaping, at growing intervals.
  auto step = std::chrono::milliseconds(1);
  while (true) {
    if (child_.exited()) return true;
    const auto now = Clock::now();
    if (now >= end) return false;
    const nanoseconds nap = std::min<nanoseconds>(step, end - now);
    if (out_ >= 0 || stdout_ >= 0) {
      pollfd p[2] = {{out_, POLLIN, 0}, {stdout_, POLLIN, 0}};
      if (::poll(p, 2, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(nap).count())) > 0) copy_outputs();
    } else {
      std::this_thread::sleep_for(nap);
    }
    step = std::min(step * 2, std::chrono::milliseconds(10));
  }
}

void Subprocess::stop_group(nanoseconds grace) {
  // The child is not reaped before SIGKILL goes out, so its pid (the group id) cannot have
  // been reused by then.
  child_.kill(SIGTERM);
  exited_within(grace);
  child_.kill(SIGKILL);
}

int Subprocess::reap() { return child_.wait().exit_code(); }

SubprocessResult Subprocess::wait(const SubprocessLimits& limits) {
  if (child_.reaped()) return result_;
  SubprocessResult r;
  // Without a pidfd (exited_within then polls the child), the CancelToken is looked at this often.
  constexpr nanoseconds cancel_poll = std::chrono::milliseconds(20);
  const int cancel_fd = limits.cancel ? limits.cancel->wake_fd() : -1;
  const std::optional<Clock::time_point> deadline =
      limits.timeout.nanos > 0 ? std::optional(started_ + nanoseconds(limits.timeout.nanos))
                               : std::nullopt;
  const nanoseconds grace(std::max<int64_t>(limits.kill_grace.nanos, 0));
  while (true) {
    nanoseconds d = limits.cancel && (child_.pidfd() < 0 || cancel_fd < 0) ? cancel_poll : nanoseconds::max();
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
  if (child_.reaped()) return result_;
  copy_outputs();
  const bool exited = child_.exited();
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
      child_.kill(SIGTERM);
      return std::nullopt;
    }
    if (killed_ || now < kill_at_) return std::nullopt;
  }
  // As wait()'s stop_group: the group gets SIGKILL once the child ended or the grace ran out,
  // before the child is reaped (so its pid, the group id, cannot have been reused).
  if (stopping_ && !killed_) {
    child_.kill(SIGKILL);
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
  if (child_.reaped()) return Clock::now();
  std::optional<Clock::time_point> at;
  if (stopping_) {
    if (!killed_) at = kill_at_;
  } else if (limits.timeout.nanos > 0) {
    at = started_ + nanoseconds(limits.timeout.nanos);
  }
  if (child_.pidfd() < 0) {  // nothing tells of the exit: look again soon
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
