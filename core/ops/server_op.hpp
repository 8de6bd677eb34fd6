#pragma once
/// `server.create` and `server.delete`: servers through the workspace's providers
/// (OpContext::open_provider). A created server is deleted on rollback; both report the server
/// as a resource (resource_created / resource_deleted events). server.create goes through
/// create_server (server_identity.hpp): a server of that name with the same spec is reported
/// unchanged (no resource event, nothing to roll back); another spec fails the operation
/// (provisioning::server::exists) unless `replace` is true.
///   server.create  provider (string), server (record: a ServerSpec), replace (bool)
///                                                                     rollback: deletes it
///   server.delete  provider (string), server_id (string)              rollback: none

#include "core/ops/op_kind.hpp"

namespace prov {

class ServerCreateOp : public OpKind {
 public:
  std::string_view name() const override { return "server.create"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec&) const override { return true; }

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

class ServerDeleteOp : public OpKind {
 public:
  std::string_view name() const override { return "server.delete"; }
  void validate(const OperationSpec& op) const override;
  bool has_rollback(const OperationSpec&) const override { return false; }

 protected:
  OpResult do_run(const OperationSpec& op, const OpContext& ctx) const override;
  OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                       const OpContext& ctx) const override;
};

}  // namespace prov
