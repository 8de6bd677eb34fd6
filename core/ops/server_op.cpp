#include "core/ops/server_op.hpp"

#include "core/ops/fields.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

OpResult not_available(const OperationSpec& op) {
  const std::optional<std::string> provider = Fields(op).optional_string("provider");
  return op_failed("provisioning::provider::not_available",
                   op.kind + " cannot run: no provider is available yet" +
                       (provider ? " (asked for `" + *provider + "`)" : std::string()));
}

void need_record(const Fields& f, std::string_view name) {
  const Datum* d = f.get(name);
  if (!d) f.invalid(name, "is required (a record)");
  if (!d->is_record()) f.invalid(name, "must be a record, not " + d->type_name());
}

}  // namespace

void ServerCreateOp::validate(const OperationSpec& op) const {
  Fields f(op);
  f.string("provider");
  need_record(f, "server");
}

OpResult ServerCreateOp::do_run(const OperationSpec& op, const OpContext&) const {
  validate(op);
  return not_available(op);
}

OpResult ServerCreateOp::do_rollback(const OperationSpec& op, const Datum&, const OpContext&) const {
  return not_available(op);
}

void ServerDeleteOp::validate(const OperationSpec& op) const {
  Fields f(op);
  f.string("provider");
  f.string("server_id");
}

OpResult ServerDeleteOp::do_run(const OperationSpec& op, const OpContext&) const {
  validate(op);
  return not_available(op);
}

OpResult ServerDeleteOp::do_rollback(const OperationSpec&, const Datum&, const OpContext&) const {
  return op_succeeded("nothing to undo");
}

}  // namespace prov
