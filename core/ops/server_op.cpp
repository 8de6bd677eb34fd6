#include "core/ops/server_op.hpp"

#include "core/ops/fields.hpp"
#include "core/events/event.hpp"
#include "core/providers/provider.hpp"
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

void ServerCreateOp::validate(const OperationSpec& op) const {
  check_declared_fields(op);
  spec_of(Fields(op));  // the spec as a provider takes it
}

OpResult ServerCreateOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  const ServerSpec spec = spec_of(Fields(op));
  return with_provider(op, ctx, [&](Provider& p, const std::string& name) {
    Server s = p.create(spec);
    OpResult r = op_succeeded("created server " + s.id + " (" + s.state + ")",
                              Datum(DatumRecord{{"provider", Datum(name)}, {"server_id", Datum(s.id)}}));
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
