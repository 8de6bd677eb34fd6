#pragma once
/// `file.write`: writes a file inside the workspace atomically.
///   path     string  relative to the workspace (or absolute inside it); never outside it
///   content  string  the file's whole content (required)
///   mode     string or int  permission bits, "0644" / "644" / "0o644" or an int (at most 0o777);
///                    default: the existing file's mode, else 0644
/// Missing parent directories are created. Undo: the old content and mode, or that there was no
/// file (and which directories were created); rollback puts the old file back or removes it.

#include "core/ops/op_kind.hpp"

namespace prov {

class FileWriteOp : public OpKind {
 public:
  std::string_view name() const override { return "file.write"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec&) const override { return true; }

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

}  // namespace prov
