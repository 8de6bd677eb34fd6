#include "core/ops/command_op.hpp"

#include "core/ops/fields.hpp"
#include "core/ops/op_process.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

/// The process `argv_field` describes, with the operation's env and cwd.
OpProcess process(const Fields& f, std::string_view argv_field) {
  OpProcess p;
  p.argv = f.argv(argv_field);
  p.env = f.env("env");
  p.cwd = f.optional_string("cwd").value_or("");
  return p;
}

/// The process of a run, its fields checked.
OpProcess run_process(const OperationSpec& op, const OpContext& ctx) {
  check_declared_fields(op);  // a bad rollback must fail now, not when it is needed
  Fields f(op);
  OpProcess p = process(f, "run");
  p.stdin_text = f.optional_string("stdin");
  p.stdout_use =
      f.optional_string("output").value_or("text") == "json" ? OpProcess::Stdout::json : OpProcess::Stdout::text;
  p.out_required = ctx.out_referenced;
  return p;
}

}  // namespace

void CommandOp::validate(const OperationSpec& op) const { check_declared_fields(op); }

bool CommandOp::has_rollback(const OperationSpec& op) const {
  return Fields(op).get("rollback") != nullptr;
}

OpResult CommandOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  return run_op_process(run_process(op, ctx), ctx);
}

std::unique_ptr<RunningOp> CommandOp::do_start(const OperationSpec& op, const OpContext& ctx) const {
  return start_op_process(run_process(op, ctx), ctx);
}

OpResult CommandOp::do_rollback(const OperationSpec& op, const Datum&, const OpContext& ctx) const {
  Fields f(op);
  if (!f.get("rollback")) return op_succeeded("nothing to undo");
  return run_op_process(process(f, "rollback"), ctx);
}

}  // namespace prov
