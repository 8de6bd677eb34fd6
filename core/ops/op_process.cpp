#include "core/ops/op_process.hpp"

#include "core/events/op_log.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/process_record.hpp"

namespace prov {

namespace {

SubprocessOptions options_of(const OpProcess& p, const OpContext& ctx) {
  SubprocessOptions o;
  o.argv = p.argv;
  if (p.env.empty()) {
    o.shared_env = ctx.base_env;  // shared: its envp block and program lookups serve every operation
  } else {
    Environment env = ctx.base_env ? ctx.base_env->vars() : current_environment();
    for (const auto& [k, v] : p.env) env[k] = v;
    o.env = std::move(env);
  }
  if (p.cwd.empty())
    o.cwd = ctx.workspace;
  else if (p.cwd[0] == '/' || ctx.workspace.empty())
    o.cwd = p.cwd;
  else
    o.cwd = ctx.workspace + "/" + p.cwd;
  o.stdin_text = p.stdin_text;
  o.log_path = ctx.log_path;
  o.open_log = ctx.open_log;
  o.frame_output = [attempt = ctx.attempt](OutputStream s, std::string_view bytes) {
    return op_log_records(op_log_now(), attempt,
                          s == OutputStream::out   ? OpLogStream::out
                          : s == OutputStream::err ? OpLogStream::err
                                                   : OpLogStream::prov,
                          bytes);
  };
  // One byte past the bound tells that it was passed.
  if (p.stdout_use != OpProcess::Stdout::log) o.keep_stdout = kMaxOutBytes + 1;
  return o;
}

/// The operation's process, recorded (process_record.hpp) while it runs.
class OpProcessRun : public RunningOp {
 public:
  OpProcessRun(const OpProcess& p, const OpContext& ctx)
      : program_(p.argv.empty() ? std::string() : p.argv[0]),
        stdout_use_(p.stdout_use),
        out_required_(p.out_required || p.stdout_use == OpProcess::Stdout::json),
        out_file_(p.out_file),
        scratch_(p.scratch),
        child_(options_of(p, ctx)),
        limits_{ctx.timeout, ctx.cancel, ctx.kill_grace},
        record_dir_(ctx.record_dir),
        record_(ctx.process_record) {
    if (record_dir_ && !record_.empty()) record_process(record_dir_->fd(), record_, child_.pid());
  }
  ~OpProcessRun() override { forget(); }

  void poll_fds(std::vector<pollfd>& fds) const override {
    if (child_.pidfd() >= 0) fds.push_back({child_.pidfd(), POLLIN, 0});
    if (child_.output_fd() >= 0) fds.push_back({child_.output_fd(), POLLIN, 0});
    if (child_.stdout_fd() >= 0) fds.push_back({child_.stdout_fd(), POLLIN, 0});
  }
  std::optional<Clock::time_point> wake_at() const override { return child_.next_wake(limits_); }
  std::optional<OpResult> step() override {
    const std::optional<SubprocessResult> s = child_.poll_wait(limits_);
    if (!s) return std::nullopt;
    return result(*s);
  }
  /// Waits for the end (the blocking form).
  OpResult wait() { return result(child_.wait(limits_)); }

 private:
  OpResult result(const SubprocessResult& s) {
    forget();
    OpResult r;
    r.exit_code = s.exit_code;
    r.timed_out = s.timed_out;
    r.cancelled = s.cancelled;
    r.duration = s.duration;
    r.ok = !s.timed_out && !s.cancelled && s.exit_code == 0;
    const std::string status = "exit status " + std::to_string(s.exit_code);
    if (s.timed_out) {
      r.code = "provisioning::operation::timeout";
      r.message = "timed out; its process group was stopped (" + status + ")";
    } else if (s.cancelled) {
      r.code = "provisioning::operation::cancelled";
      r.message = "cancelled; its process group was stopped (" + status + ")";
    } else if (!r.ok) {
      r.code = "provisioning::operation::failed";
      r.message = program_ + " ended with " + status;
    } else {
      r.message = status;
      take_stdout(r);
    }
    if (!r.ok) r.output_tail = output_tail(child_.output_tail());
    return r;
  }
  /// The result's `out` from stdout; fails `r` when it is too long or (json) not JSON.
  void take_stdout(OpResult& r) const {
    if (!out_file_.empty()) return take_out_file(r);
    if (stdout_use_ == OpProcess::Stdout::log) return;
    if (child_.stdout_overflowed() || child_.stdout_text().size() > kMaxOutBytes) {
      if (!out_required_) return;  // nobody reads it: the log has it all
      r.ok = false;
      r.permanent = true;
      r.code = "provisioning::operation::output_too_long";
      r.message = program_ + " wrote more than " + std::to_string(kMaxOutBytes / (1 << 20)) +
                  " MiB to stdout, the most a result keeps (its log has all of it)";
      return;
    }
    std::string_view text = child_.stdout_text();
    if (stdout_use_ == OpProcess::Stdout::text) {
      if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      r.out = std::string(text);
      return;
    }
    if (std::optional<Datum> d = read_plain_json(text, 128)) {
      r.out = std::move(*d);
      return;
    }
    r.ok = false;
    r.permanent = true;
    r.code = "provisioning::operation::bad_output";
    try {
      r.out = decode_json(text);
      r.ok = true;
      r.permanent = false;
      r.code.clear();
    } catch (const Error& e) {
      r.message = program_ + " printed what is not JSON, and output = \"json\" asks for it: " + e.what();
    }
  }
  /// The result's `out` from out_file_ (JSON); fails `r` when the file cannot be read as JSON.
  void take_out_file(OpResult& r) const {
    try {
      const std::optional<FileContent> file = read_file_if_exists(out_file_);
      const std::string text = file ? file->data : std::string();
      if (text.size() > kMaxOutBytes) {
        r = op_failed("provisioning::operation::output_too_long", program_ + " returned a value of more than " +
                                                                      std::to_string(kMaxOutBytes / (1 << 20)) +
                                                                      " MiB as JSON, the most a result keeps");
        r.permanent = true;
        return;
      }
      r.out = text.empty() ? Datum() : decode_json(text);
    } catch (const Error& e) {
      r = op_failed("provisioning::operation::bad_output",
                    program_ + " returned no value a result can keep: " + e.what());
      r.permanent = true;
    }
  }
  void forget() {
    if (record_dir_ && !record_.empty()) forget_process(record_dir_->fd(), record_);
    record_.clear();
  }

  std::string program_;
  OpProcess::Stdout stdout_use_;
  bool out_required_;
  std::string out_file_;
  std::shared_ptr<const TempDir> scratch_;  ///< holds out_file_ until the run ends
  Subprocess child_;
  SubprocessLimits limits_;
  std::shared_ptr<const SafeDir> record_dir_;
  std::string record_;  ///< the process record's name while it is recorded; empty after
};

}  // namespace

std::unique_ptr<RunningOp> start_op_process(const OpProcess& p, const OpContext& ctx) {
  return std::make_unique<OpProcessRun>(p, ctx);
}

OpResult run_op_process(const OpProcess& p, const OpContext& ctx) {
  OpProcessRun run(p, ctx);
  return run.wait();
}

}  // namespace prov
