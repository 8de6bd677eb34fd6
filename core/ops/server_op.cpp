#include "core/ops/server_op.hpp"

#include "core/ops/fields.hpp"
#include "core/events/event.hpp"
#include "core/providers/provider.hpp"
#include "core/providers/server_identity.hpp"
#include "core/support/error.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

ServerSpec spec_of(const Fields& f) {
  const Datum* d = f.get("server");
  if (!d) f.invalid("server", "is required (a record: a ServerSpec with at least `name`)");
  if (!d->is_record()) f.invalid("server", "must be a record, not " + d->type_name());
  try {
    return ServerSpec::from_datum(*d, "the ServerSpec");
  } catch (const Error& e) {
    f.invalid("server", e.what());
  }
}

/// Runs `f` with the operation's provider; any provider error becomes a failed result with its code.
template <typename F>
OpResult with_provider(const OperationSpec& op, const OpContext& ctx, F&& f) {
  // No provider named: the workspace's default (providers.default), as open_provider decides.
  const std::string asked = Fields(op).optional_string("provider").value_or("");
  if (!ctx.open_provider)
    return op_failed("provisioning::provider::not_available",
                     op.kind + " cannot run here: no providers are set up (asked for `" + asked + "`)");
  try {
    std::unique_ptr<Provider> p = ctx.open_provider(asked);
    return f(*p, p->name());
  } catch (const Error& e) {
    return op_failed(e.code(), e.what());
  }
}

Datum resource(const std::string& provider, const Server& s) {
  return Datum(DatumRecord{{"provider", Datum(provider)}, {"type", Datum("server")}, {"id", Datum(s.id)},
                           {"name", Datum(s.name)}});
}

}  // namespace

/// `replace` of a server.create operation: false when absent.
static bool replace_of(const Fields& f) {
  const Datum* d = f.get("replace");
  if (!d) return false;
  if (const auto* b = std::get_if<bool>(&d->v)) return *b;
  f.invalid("replace", "must be true or false, not " + d->a_type_name());
}

void ServerCreateOp::validate(const OperationSpec& op) const {
  check_declared_fields(op);
  spec_of(Fields(op));  // the spec as a provider takes it
  replace_of(Fields(op));
}

OpResult ServerCreateOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  const ServerSpec spec = spec_of(Fields(op));
  const bool replace = replace_of(Fields(op));
  return with_provider(op, ctx, [&](Provider& p, const std::string& name) {
    // A server of that name with the same spec is this operation's result: it did not make it,
    // so it reports no resource and its rollback leaves it (undo names no server).
    CreateOutcome made = create_server(p, spec, replace, "the ServerSpec of operation `" + op.id + "`");
    const Server& s = made.server;
    if (made.change == server_change::unchanged)
      return op_succeeded("server " + s.id + " unchanged (" + s.state + ")",
                          Datum(DatumRecord{{"provider", Datum(name)}, {"change", Datum(made.change)}}));
    OpResult r = op_succeeded(
        made.change + std::string(" server ") + s.id + " (" + s.state + ")",
        Datum(DatumRecord{{"provider", Datum(name)}, {"server_id", Datum(s.id)}, {"change", Datum(made.change)}}));
    r.resource_event = event_type::resource_created;
    r.resource = resource(name, s);
    r.out = s.to_datum();
    return r;
  });
}

OpResult ServerCreateOp::do_rollback(const OperationSpec& op, const Datum& undo, const OpContext& ctx) const {
  const Datum* id = undo.find("server_id");
  if (!id || !id->is_string()) return op_succeeded("nothing to undo: the server was never created");
  return with_provider(op, ctx, [&](Provider& p, const std::string& name) {
    try {
      Server s = p.remove(id->str());
      OpResult r = op_succeeded("deleted server " + s.id);
      r.resource_event = event_type::resource_deleted;
      r.resource = resource(name, s);
      return r;
    } catch (const ProviderError& e) {
      if (e.code() == "provisioning::provider::not_found")
        return op_succeeded("server " + id->str() + " was already gone");
      throw;
    }
  });
}

void ServerDeleteOp::validate(const OperationSpec& op) const { check_declared_fields(op); }

OpResult ServerDeleteOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  const std::string id = Fields(op).string("server_id");
  return with_provider(op, ctx, [&](Provider& p, const std::string& name) {
    Server s = p.remove(id);
    OpResult r = op_succeeded("deleted server " + s.id);
    r.resource_event = event_type::resource_deleted;
    r.resource = resource(name, s);
    r.out = DatumRecord{{"id", Datum(s.id)}, {"deleted", Datum(true)}};
    return r;
  });
}

OpResult ServerDeleteOp::do_rollback(const OperationSpec&, const Datum&, const OpContext&) const {
  return op_succeeded("nothing to undo");
}

}  // namespace prov
