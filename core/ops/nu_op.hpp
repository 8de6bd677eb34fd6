#pragma once
/// `nu`: runs Nu code in a Nu process (`nu -n --stdin -c <code>`, no config files).
///   code      string  Nu code (required); its `$in` is the input with its type; it runs in a
///                     Nu that has this plugin loaded (OpContext::nu_plugin). Or a
///                     closure reference (closure_channel.hpp): the Nu session that ran the
///                     workflow evaluates its closure, with `input` as its input; cwd and env
///                     are that session's
///   input     any     data for the code, passed as NUON on stdin and read back with `from nuon`
///                     before the code runs, never spliced into the code (dates stay dates,
///                     durations durations)
///   env       record  variables set over the workflow's environment
///   cwd       string  working directory, relative to the workspace (default: the workspace)
///   rollback  string  Nu code (or a closure reference) run the same way, with the same input, to
///                     undo it

#include <string>

#include "core/ops/op_kind.hpp"

namespace prov {

class NuOp : public OpKind {
 public:
  std::string_view name() const override { return "nu"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec& op) const override;

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  std::unique_ptr<RunningOp> do_start(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

/// `d` as NUON text that `from nuon` reads back with every type kept (one line).
std::string nu_input_nuon(const Datum& d);


}  // namespace prov
