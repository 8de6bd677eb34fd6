#pragma once
/// `config.set`: sets one key in the workspace's `config.user.toml`.
///   key    string  dotted path (`providers.local.timeout`, `a."b.c"`); missing tables are created
///   value  any     but null: records become tables, durations strings ("1.5s")
/// The file is created (0600) when missing and replaced atomically; every other key keeps its
/// value, type and order, but comments are lost (toml++ does not keep them). Edits are
/// serialised across threads and processes by an flock on `<workspace>/.config.user.toml.lock`.
/// Undo: the key's previous value (as TOML text) or its absence; rollback puts it back, removing
/// tables the run created, and the file when the run created it and nothing else is in it.
/// Messages never show values: configuration holds secrets.

#include "core/ops/op_kind.hpp"

namespace prov {

class ConfigSetOp : public OpKind {
 public:
  std::string_view name() const override { return "config.set"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec&) const override { return true; }

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

}  // namespace prov
