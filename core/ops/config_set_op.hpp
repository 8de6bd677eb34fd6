#pragma once
/// `config.set`: sets one key in the workspace's `config.user.toml`.
///   key    string  dotted path (`providers.local.timeout`, `a."b.c"`); missing tables are created
///   value  any     but null: records become inline tables, durations strings ("1.5s")
/// The file is edited in place and replaced atomically (created 0600 when missing): the key's
/// value text is replaced, or one line is added to its table (a `[table]` at the end when none
/// holds it); comments, order, quoting and blank lines elsewhere stay byte for byte (toml_edit.hpp).
/// Edits are serialised across threads and processes by an flock on the workspace folder.
/// Undo: the value's exact previous text (a secret's in the private folder), or the size and
/// fingerprint of the added text; rollback puts back exactly the previous bytes.
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
