#include "core/ops/op_process.hpp"

#include "core/support/process_record.hpp"

namespace prov {

OpResult run_op_process(const OpProcess& p, const OpContext& ctx) {
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

  Subprocess child(o);
  const bool recorded = ctx.record_dir && !ctx.process_record.empty();
  if (recorded) record_process(ctx.record_dir->fd(), ctx.process_record, child.pid());
  const SubprocessResult s = child.wait({ctx.timeout, ctx.cancel, ctx.kill_grace});
  if (recorded) forget_process(ctx.record_dir->fd(), ctx.process_record);
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
    r.message = p.argv[0] + " ended with " + status;
  } else {
    r.message = status;
  }
  return r;
}

}  // namespace prov
