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

namespace prov {

namespace {

/// Appends `line` to the log in one write, on a line of its own; the log is best effort: an
/// operation never fails because its log cannot be written.
void log_line(const std::string& path, std::string line) {
  if (path.empty()) return;
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  // Output that did not end its last line would otherwise swallow the start of ours.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') line.insert(0, "\n");
  line += '\n';
  [[maybe_unused]] const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

/// Runs `body` framed by log lines, turning exceptions into failed results and timing it.
template <typename Body>
OpResult framed(const OperationSpec& op, const OpContext& ctx, const char* action, Body body) {
  const std::string what = op.id + " (" + op.kind + ") " + action;
  log_line(ctx.log_path, "==> " + now_utc().rfc3339 + " " + what);
  const auto start = std::chrono::steady_clock::now();
  OpResult r;
  try {
    r = body();
  } catch (const Error& e) {
    r = op_failed(e.code(), e.what());
  } catch (const std::exception& e) {
    r = op_failed("provisioning::internal", e.what());
  }
  if (r.duration.nanos == 0)
    r.duration = Duration{std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count()};
  log_line(ctx.log_path, "<== " + now_utc().rfc3339 + " " + what + ": " +
                             (r.ok ? "ok" : "failed [" + r.code + "]") +
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
  return framed(op, ctx, "run", [&] { return do_run(op, ctx); });
}

OpResult OpKind::rollback(const OperationSpec& op, const Datum& undo, const OpContext& ctx) const {
  return framed(op, ctx, "rollback", [&] { return do_rollback(op, undo, ctx); });
}

const OpKind* find_kind(std::string_view name) {
  for (const OpKind* k : registry())
    if (k->name() == name) return k;
  return nullptr;
}

std::vector<std::string_view> kind_names() {
  std::vector<std::string_view> names;
  for (const OpKind* k : registry()) names.push_back(k->name());
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
