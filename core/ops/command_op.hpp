#pragma once
/// `command`: runs a program from an argv list, no shell.
///   run       list  the program and its arguments (required)
///   env       record  variables set over the workflow's environment
///   cwd       string  working directory, relative to the workspace (default: the workspace)
///   stdin     string  what the program reads on stdin (default: nothing)
///   output    string  "text" (default): `out` is stdout without its final newline; "json": parsed
///   rollback  list  an argv run, with the same env and cwd, to undo it (stdin empty)

#include "core/ops/op_kind.hpp"

namespace prov {

class CommandOp : public OpKind {
 public:
  std::string_view name() const override { return "command"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec& op) const override;

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  std::unique_ptr<RunningOp> do_start(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

}  // namespace prov
