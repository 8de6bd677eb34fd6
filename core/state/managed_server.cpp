#include "core/state/managed_server.hpp"

#include "core/support/error.hpp"

namespace prov {

Datum ManagedServer::to_datum() const {
  DatumList deps;
  for (const auto& d : depends_on) deps.emplace_back(d);
  return Datum(DatumRecord{{"name", Datum(name)},
                           {"provider", Datum(provider)},
                           {"id", Datum(id)},
                           {"depends_on", Datum(std::move(deps))},
                           {"spec", spec},
                           {"last", last}});
}

ManagedServer ManagedServer::from_datum(const Datum& d, const std::string& where) {
  auto bad = [&](const std::string& field, const std::string& problem) {
    return ResourceError("provisioning::state::corrupt_infra", where + ": `" + field + "` " + problem,
                         "`prov infra import` adopts the server again, or remove " + where + " to forget it");
  };
  if (!d.is_record()) throw bad("(record)", "is not a record");
  ManagedServer m;
  for (const char* key : {"name", "provider", "id"}) {
    const Datum* v = d.find(key);
    if (!v || !v->is_string()) throw bad(key, "is missing or not a string");
    (key == std::string("name") ? m.name : key == std::string("provider") ? m.provider : m.id) = v->str();
  }
  if (const Datum* deps = d.find("depends_on")) {
    if (!deps->is_list()) throw bad("depends_on", "is not a list");
    for (const Datum& x : deps->list()) {
      if (!x.is_string()) throw bad("depends_on", "holds " + x.a_type_name());
      m.depends_on.push_back(x.str());
    }
  }
  const Datum* spec = d.find("spec");
  if (!spec || !spec->is_record()) throw bad("spec", "is missing or not a record");
  m.spec = *spec;
  if (const Datum* last = d.find("last")) m.last = *last;
  return m;
}

}  // namespace prov
