#include "core/infra/infra_workflow.hpp"

#include <algorithm>
#include <map>

namespace prov {

namespace {

Datum names(const std::vector<std::string>& v) {
  DatumList out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

bool deletes(const InfraPlanEntry& e) { return e.action == infra_action::del || e.action == infra_action::replace; }
bool creates(const InfraPlanEntry& e) { return e.action == infra_action::create || e.action == infra_action::replace; }

}  // namespace

InfraWorkflow infra_workflow(const InfraPlan& plan, const std::string& kind, const DatumRecord& vars) {
  std::map<std::string, const InfraPlanEntry*> by_name;
  for (const auto& e : plan.entries) by_name[e.name] = &e;
  DatumList ops;
  DatumRecord pending_ops;
  bool placeholders = false;
  auto note = [&](const std::string& op, const InfraPlanEntry& e) {
    pending_ops.emplace_back(op, Datum(DatumRecord{{"name", Datum(e.name)},
                                                   {"provider", Datum(e.provider)},
                                                   {"depends_on", names(e.depends_on)},
                                                   {"spec", e.spec}}));
  };
  // Deletes: a server goes after every server being deleted that depends on it.
  for (const auto& e : plan.entries) {
    if (!deletes(e)) continue;
    std::vector<std::string> after;
    for (const auto& o : plan.entries)
      if (&o != &e && deletes(o) && std::find(o.depends_on.begin(), o.depends_on.end(), e.name) != o.depends_on.end())
        after.push_back(delete_op_id(o.name));
    DatumRecord op{{"id", Datum(delete_op_id(e.name))},
                   {"kind", Datum("server.delete")},
                   {"provider", Datum(e.provider)},
                   {"server_id", Datum(e.id)}};
    if (!after.empty()) op.emplace_back("depends_on", names(after));
    ops.emplace_back(std::move(op));
    note(delete_op_id(e.name), e);
  }
  // Creates: after their own delete (a replace) and after what they depend on is created.
  for (const auto& e : plan.entries) {
    if (!creates(e)) continue;
    std::vector<std::string> after;
    if (e.action == infra_action::replace) after.push_back(delete_op_id(e.name));
    for (const auto& d : e.depends_on)
      if (auto it = by_name.find(d); it != by_name.end() && creates(*it->second)) after.push_back(create_op_id(d));
    DatumRecord op{{"id", Datum(create_op_id(e.name))},
                   {"kind", Datum("server.create")},
                   {"provider", Datum(e.provider)},
                   {"server", e.spec}};
    if (!after.empty()) op.emplace_back("depends_on", names(after));
    ops.emplace_back(std::move(op));
    note(create_op_id(e.name), e);
    placeholders = placeholders || !e.spec_known;
  }
  InfraWorkflow w;
  DatumRecord doc{{"name", Datum("infra-" + kind)}};
  // `{{ops.…}}` placeholders are the engine's (workflow references); [vars] go with them.
  if (placeholders && !vars.empty()) doc.emplace_back("vars", Datum(vars));
  doc.emplace_back("operations", Datum(std::move(ops)));
  w.document = Datum(std::move(doc));
  w.pending = Datum(DatumRecord{{"kind", Datum(kind)}, {"ops", Datum(std::move(pending_ops))}});
  return w;
}

}  // namespace prov
