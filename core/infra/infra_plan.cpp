#include "core/infra/infra_plan.hpp"

#include <algorithm>

#include "core/infra/infra_refs.hpp"
#include "core/providers/provider.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

/// An absent field, null, and an empty string, list or record all mean "not set".
bool unset(const Datum* d) {
  if (!d || d->is_null()) return true;
  if (d->is_string()) return d->str().empty();
  if (d->is_list()) return d->list().empty();
  if (d->is_record()) return d->record().empty();
  return false;
}

bool same(const Datum* a, const Datum* b) {
  if (unset(a) || unset(b)) return unset(a) && unset(b);
  return *a == *b;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// `names` of `managed` ordered so that a server comes before every server it depends on.
std::vector<const ManagedServer*> dependents_first(const std::vector<const ManagedServer*>& chosen) {
  std::vector<const ManagedServer*> left = chosen, out;
  while (!left.empty()) {
    size_t before = left.size();
    for (auto it = left.begin(); it != left.end();) {
      const bool needed = std::any_of(left.begin(), left.end(), [&](const ManagedServer* o) {
        return o != *it && std::find(o->depends_on.begin(), o->depends_on.end(), (*it)->name) != o->depends_on.end();
      });
      if (needed) {
        ++it;
      } else {
        out.push_back(*it);
        it = left.erase(it);
      }
    }
    if (left.size() == before) {  // a recorded circle: take them as they are
      out.insert(out.end(), left.begin(), left.end());
      break;
    }
  }
  return out;
}

InfraPlanEntry delete_entry(const ManagedServer& m, std::string reason) {
  InfraPlanEntry e;
  e.action = infra_action::del;
  e.name = m.name;
  e.provider = m.provider;
  e.id = m.id;
  e.reason = std::move(reason);
  e.depends_on = m.depends_on;
  return e;
}

}  // namespace

bool InfraPlan::nothing_to_do() const {
  return std::all_of(entries.begin(), entries.end(), [](const auto& e) { return e.action == infra_action::noop; });
}

bool InfraPlan::needs_workflow() const {
  return std::any_of(entries.begin(), entries.end(),
                     [](const auto& e) { return e.action != infra_action::noop && e.action != infra_action::update; });
}

std::string create_op_id(const std::string& name) { return "create-" + name; }
std::string delete_op_id(const std::string& name) { return "delete-" + name; }

InfraPlan make_infra_plan(const InfraDefinition& def, const std::vector<ManagedServer>& managed,
                          const std::string& default_provider, const ProvidersNow& now) {
  std::map<std::string, const ManagedServer*> by_name;
  for (const auto& m : managed) by_name[m.name] = &m;
  std::map<std::string, size_t> planned;  // name -> entry index
  InfraPlan plan;
  for (const InfraServer& s : def.servers) {
    InfraPlanEntry e;
    e.name = s.name;
    e.provider = s.provider.empty() ? default_provider : s.provider;
    e.depends_on = s.depends_on;
    auto value = [&](const InfraRef& r) -> std::optional<Datum> {
      if (r.kind == InfraRef::Kind::var) {
        for (const auto& [k, v] : def.vars)
          if (k == r.name) return v;
        return std::nullopt;
      }
      const InfraPlanEntry& dep = plan.entries[planned.at(r.name)];
      if (dep.spec_known)
        if (const Datum* d = datum_at(dep.spec, r.path)) return *d;
      const bool stays = dep.action == infra_action::noop || dep.action == infra_action::update;
      if (stays) {
        if (const Datum* d = datum_at(by_name.at(r.name)->last, r.path)) return *d;
        throw ConfigError("provisioning::infra::unknown_field",
                          def.origin + ": servers." + s.name + ": " + r.text + ": server " + r.name + " has no field " +
                              joined(r.path, "."),
                          "`prov infra state` shows the recorded server record's fields");
      }
      return std::nullopt;
    };
    auto later = [](const InfraRef& r) {
      return "{{ops." + create_op_id(r.name) + ".out." + joined(r.path, ".") + "}}";
    };
    ResolvedRefs resolved = resolve_infra_refs(s.spec, value, later);
    e.spec = std::move(resolved.value);
    e.spec_known = resolved.known;
    if (e.spec_known) {
      // As a provider takes it ([sleep 600] holds an int; its command is text), checked now.
      try {
        e.spec = ServerSpec::from_datum(e.spec, "servers." + s.name).to_datum();
      } catch (const Error& x) {
        throw ConfigError("provisioning::infra::wrong_type", def.origin + ": " + x.what(), x.help());
      }
    }
    auto found = by_name.find(s.name);
    if (found == by_name.end()) {
      e.action = infra_action::create;
      e.reason = "not managed yet";
    } else {
      const ManagedServer& m = *found->second;
      e.id = m.id;
      auto reported = now.servers.find(m.provider);
      const Datum* record = nullptr;
      if (reported != now.servers.end()) {
        auto it = reported->second.find(m.id);
        if (it != reported->second.end()) record = &it->second;
      }
      if (m.provider != e.provider) {
        e.action = infra_action::replace;
        e.changes.push_back({"provider", Datum(m.provider), Datum(e.provider)});
        e.reason = "it moves from provider " + m.provider + " to " + e.provider;
      } else if (reported != now.servers.end() && !record) {
        e.action = infra_action::create;
        e.id.clear();
        e.reason = "deleted outside prov infra: " + m.provider + " has no server " + m.id;
      } else {
        std::vector<std::string> forcing;
        // The fields of both specs but `name`: the new spec's order, then the recorded one's.
        std::vector<std::string> order;
        for (const Datum* spec : std::initializer_list<const Datum*>{&e.spec, &m.spec})
          if (spec->is_record())
            for (const auto& [k, v] : spec->record())
              if (k != "name" && std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
        for (const auto& k : order) {
          const Datum* before = m.spec.find(k);
          const Datum* after = e.spec.find(k);
          if (same(before, after)) continue;
          e.changes.push_back({k, before ? *before : Datum(), after ? *after : Datum()});
          if (!now.in_place || !now.in_place(e.provider, k)) forcing.push_back(k);
        }
        const Datum* state = record ? record->find("state") : nullptr;
        if (state && state->is_string() && state->str() == "exited") {
          e.action = infra_action::replace;
          e.reason = "its server " + m.id + " has exited";
        } else if (e.changes.empty()) {
          e.action = infra_action::noop;
        } else if (forcing.empty()) {
          e.action = infra_action::update;
          e.reason = "changes in place";
        } else {
          e.action = infra_action::replace;
          e.reason = joined(forcing, ", ") + " cannot change in place";
          if (!e.spec_known) e.reason += " (or is known only after apply)";
        }
      }
    }
    planned[s.name] = plan.entries.size();
    plan.entries.push_back(std::move(e));
  }
  std::vector<const ManagedServer*> gone;
  for (const auto& m : managed)
    if (!def.find(m.name)) gone.push_back(&m);
  for (const ManagedServer* m : dependents_first(gone))
    plan.entries.push_back(delete_entry(*m, "not in the definition"));
  return plan;
}

InfraPlan make_destroy_plan(const std::vector<ManagedServer>& managed, const std::vector<std::string>& only) {
  std::vector<const ManagedServer*> chosen;
  for (const auto& m : managed)
    if (only.empty() || std::find(only.begin(), only.end(), m.name) != only.end()) chosen.push_back(&m);
  InfraPlan plan;
  for (const ManagedServer* m : dependents_first(chosen)) plan.entries.push_back(delete_entry(*m, "destroy"));
  return plan;
}

}  // namespace prov
