#include "core/ops/op_kind.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <exception>

#include "core/events/event.hpp"
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
/// first, and written through one descriptor until the trailer. Best effort: an operation
/// never fails because its log cannot be written.
class ActionLog {
 public:
  ActionLog(std::string path, std::shared_ptr<const SafeDir> dir, std::string header)
      : path_(std::move(path)), dir_(std::move(dir)), header_(std::move(header)) {}
  ~ActionLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  ActionLog(const ActionLog&) = delete;
  ActionLog& operator=(const ActionLog&) = delete;

  /// The log's descriptor, opened (and the header written) at the first call; -1 when there is
  /// no log or it cannot be opened.
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
    write_line(header_);
    return fd_;
  }
  bool is_open() const { return fd_ >= 0; }

  /// Appends `line` in one write, on a line of its own.
  void write_line(std::string line) const {
    if (fd_ < 0) return;
    // Output that did not end its last line would otherwise swallow the start of ours.
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    char last = '\n';
    if (size > 0 && ::pread(fd_, &last, 1, size - 1) == 1 && last != '\n') line.insert(0, "\n");
    line += '\n';
    [[maybe_unused]] const ssize_t n = ::write(fd_, line.data(), line.size());
  }

 private:
  std::string path_;
  std::shared_ptr<const SafeDir> dir_;  ///< where path_ lies, held open; null: path_ as it is
  std::string header_;
  int fd_ = -1;
  bool tried_ = false;  ///< open() was called: fd_ is what it got
};

/// Runs `body` framed by log lines, turning exceptions into failed results and timing it. The
/// body gets `ctx` with `open_log` set; a silent, successful action leaves no log behind.
template <typename Body>
OpResult framed(const OperationSpec& op, const OpContext& ctx, const char* action, Body body) {
  const std::string what = op.id + " (" + op.kind + ") " + action;
  ActionLog log(ctx.log_path, ctx.log_dir, "==> " + now_utc().rfc3339 + " " + what);
  OpContext c = ctx;
  if (!ctx.log_path.empty()) c.open_log = [&log] { return log.open(); };
  const auto start = std::chrono::steady_clock::now();
  OpResult r;
  try {
    r = body(c);
  } catch (const Error& e) {
    r = op_failed(e.code(), e.what());
  } catch (const std::exception& e) {
    r = op_failed("provisioning::internal", e.what());
  }
  if (r.duration.nanos == 0)
    r.duration = Duration{std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count()};
  if (!r.ok) log.open();
  log.write_line("<== " + now_utc().rfc3339 + " " + what + ": " + (r.ok ? "ok" : "failed [" + r.code + "]") +
                 (r.message.empty() ? "" : ": " + r.message) + " (" +
                 format_duration(Duration{r.duration.nanos / 1'000'000 * 1'000'000}) + ")");
  return r;
}

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

OpResult op_succeeded(std::string message, Datum undo) {
  OpResult r;
  r.ok = true;
  r.message = std::move(message);
  r.undo = std::move(undo);
  return r;
}

OpResult op_failed(std::string code, std::string message) {
  OpResult r;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

}  // namespace prov
