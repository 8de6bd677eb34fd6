#include "core/ops/op_kind.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <exception>

#include "core/events/event.hpp"
#include "core/events/op_log.hpp"
#include "core/ops/command_op.hpp"
#include "core/ops/config_set_op.hpp"
#include "core/ops/file_write_op.hpp"
#include "core/ops/nu_op.hpp"
#include "core/ops/server_op.hpp"
#include "core/support/duration.hpp"
#include "core/support/error.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

/// An action's log: created at the action's first output (or its failure), its header line
/// first, and written through one descriptor until the trailer, as records (op_log.hpp) of
/// attempt `attempt`. Best effort: an operation never fails because its log cannot be written.
class ActionLog {
 public:
  ActionLog(std::string path, std::shared_ptr<const SafeDir> dir, std::string header, std::optional<int> attempt)
      : path_(std::move(path)),
        dir_(std::move(dir)),
        header_(std::move(header)),
        attempt_(attempt) {}
  ~ActionLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  ActionLog(const ActionLog&) = delete;
  ActionLog& operator=(const ActionLog&) = delete;

  /// The log's descriptor, opened (a new log's first line and the header written) at the first
  /// call; -1 when there is no log or it cannot be opened.
  int open() {
    if (tried_ || path_.empty()) return fd_;
    tried_ = true;
    constexpr int flags = O_RDWR | O_APPEND | O_CREAT;
    if (dir_) {
      try {
        fd_ = dir_->open_file(path_.substr(path_.rfind('/') + 1), flags, 0600).release();
      } catch (const Error&) {
        fd_ = -1;  // a link (or worse) where the log belongs: nothing is written through it
      }
    } else {
      fd_ = ::open(path_.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (fd_ >= 0 && ::lseek(fd_, 0, SEEK_END) == 0) write(std::string(op_log_magic()));
    write_line(header_);
    return fd_;
  }
  bool is_open() const { return fd_ >= 0; }

  /// Appends `line` as the runner's record, in one write.
  void write_line(const std::string& line) const {
    if (fd_ < 0) return;
    std::string rec;
    // A record cut short (a crash, the size limit) would otherwise swallow ours.
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    char last = '\n';
    if (size > 0 && ::pread(fd_, &last, 1, size - 1) == 1 && last != '\n') rec = "\n";
    append_op_log_records(rec, op_log_now(), attempt_, OpLogStream::prov, line + "\n");
    write(rec);
  }

 private:
  void write(const std::string& bytes) const {
    [[maybe_unused]] const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
  }

  std::string path_;
  std::shared_ptr<const SafeDir> dir_;  ///< where path_ lies, held open; null: path_ as it is
  std::string header_;
  std::optional<int> attempt_;
  int fd_ = -1;
  bool tried_ = false;  ///< open() was called: fd_ is what it got
};

/// An action's frame: the log (header before its first line, a trailer saying how it ended)
/// and its time. The context it hands the action has `open_log` set; a silent, successful
/// action leaves no log behind. Lives at one address while the action runs.
class ActionFrame {
 public:
  ActionFrame(const OperationSpec& op, const OpContext& ctx, const char* action)
      : what_(op.id + " (" + op.kind + ") " + action),
        log_(ctx.log_path, ctx.log_dir, "==> " + now_utc().rfc3339 + " " + what_,
             std::string_view(action) == "rollback" ? std::nullopt : ctx.attempt),
        ctx_(ctx),
        start_(std::chrono::steady_clock::now()) {
    if (std::string_view(action) == "rollback") ctx_.attempt = std::nullopt;
    if (!ctx.log_path.empty()) ctx_.open_log = [this] { return log_.open(); };
  }
  ActionFrame(const ActionFrame&) = delete;
  ActionFrame& operator=(const ActionFrame&) = delete;

  const OpContext& context() const { return ctx_; }

  /// Times `r` (unless the action did) and writes the trailer.
  OpResult finish(OpResult r) {
    if (r.duration.nanos == 0)
      r.duration = Duration{
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count()};
    if (!r.ok) log_.open();
    log_.write_line("<== " + now_utc().rfc3339 + " " + what_ + ": " + (r.ok ? "ok" : "failed [" + r.code + "]") +
                    (r.message.empty() ? "" : ": " + r.message) + " (" +
                    format_duration(Duration{r.duration.nanos / 1'000'000 * 1'000'000}) + ")");
    return r;
  }

 private:
  std::string what_;
  ActionLog log_;
  OpContext ctx_;
  std::chrono::steady_clock::time_point start_;
};

/// `body()` as a result: a thrown error becomes a failed one.
template <typename Body>
OpResult guarded(Body body) {
  try {
    return body();
  } catch (const Error& e) {
    return op_failed(e.code(), e.what());
  } catch (const std::exception& e) {
    return op_failed("provisioning::internal", e.what());
  }
}

/// Runs `body` in its frame.
template <typename Body>
OpResult framed(const OperationSpec& op, const OpContext& ctx, const char* action, Body body) {
  ActionFrame frame(op, ctx, action);
  return frame.finish(guarded([&] { return body(frame.context()); }));
}

/// A started action in its frame; the frame's trailer is written when it ends.
class FramedOp : public RunningOp {
 public:
  FramedOp(const OperationSpec& op, const OpContext& ctx) : frame_(op, ctx, "run") {}
  /// Starts the action through `start`; false when the kind does not start processes.
  template <typename Start>
  bool begin(Start start) {
    try {
      inner_ = start(frame_.context());
      if (!inner_) return false;
    } catch (...) {
      inner_ = std::make_unique<EndedOp>(guarded([]() -> OpResult { throw; }));
    }
    return true;
  }
  void poll_fds(std::vector<pollfd>& fds) const override { inner_->poll_fds(fds); }
  std::optional<Clock::time_point> wake_at() const override { return inner_->wake_at(); }
  std::optional<OpResult> step() override {
    std::optional<OpResult> r = guarded_step();
    if (r) r = frame_.finish(std::move(*r));
    return r;
  }

 private:
  std::optional<OpResult> guarded_step() {
    try {
      return inner_->step();
    } catch (...) {
      return guarded([]() -> OpResult { throw; });
    }
  }
  ActionFrame frame_;
  std::unique_ptr<RunningOp> inner_;
};

const std::vector<const OpKind*>& registry() {
  static const CommandOp command;
  static const NuOp nu;
  static const FileWriteOp file_write;
  static const ConfigSetOp config_set;
  static const ServerCreateOp server_create;
  static const ServerDeleteOp server_delete;
  static const std::vector<const OpKind*> all = {&command,    &nu,            &file_write,
                                                 &config_set, &server_create, &server_delete};
  return all;
}

}  // namespace

OpResult OpKind::run(const OperationSpec& op, const OpContext& ctx) const {
  return framed(op, ctx, "run", [&](const OpContext& c) { return do_run(op, c); });
}

OpResult OpKind::rollback(const OperationSpec& op, const Datum& undo, const OpContext& ctx) const {
  return framed(op, ctx, "rollback", [&](const OpContext& c) { return do_rollback(op, undo, c); });
}

std::unique_ptr<RunningOp> OpKind::start(const OperationSpec& op, const OpContext& ctx) const {
  auto run = std::make_unique<FramedOp>(op, ctx);
  if (!run->begin([&](const OpContext& c) { return do_start(op, c); })) return nullptr;
  return run;
}

std::unique_ptr<RunningOp> OpKind::do_start(const OperationSpec&, const OpContext&) const { return nullptr; }

const OpKind* find_kind(std::string_view name) {
  for (const OpKind* k : registry())
    if (k->name() == name) return k;
  return nullptr;
}

std::vector<std::string_view> kind_names() {
  std::vector<std::string_view> names;
  for (const KindDecl& k : kind_decls()) names.push_back(k.name);
  return names;
}

}  // namespace prov
