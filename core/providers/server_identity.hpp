#pragma once
/// A server's name is its identity within its provider: creating a name that exists with the
/// same spec changes nothing (`unchanged`), with another spec it is refused naming what differs,
/// unless the caller asks to replace it. `prov server create`, `server.create` operations and
/// `prov infra` all create through create_server, whatever the provider.

#include <optional>
#include <string>
#include <vector>

#include "core/providers/provider.hpp"

namespace prov {

/// One field in which a server differs from a spec: its value there (`before`) and in the spec
/// (`after`); null for unset.
struct FieldChange {
  std::string field;
  Datum before;
  Datum after;
};

/// Refuses a spec that sets a field `provider` does not take (spec_fields()): ProviderError
/// `provisioning::provider::invalid_spec` naming the field, with the nearest known fields as
/// "did you mean". `where` says where the spec came from.
void check_spec_fields(const ServerSpec& spec, Provider& provider, const std::string& where = "the server spec");

/// The fields in which `existing` (as its provider reports it) differs from `wanted`: plan,
/// labels, then `fields` (the provider's spec fields) and wanted's extra fields, each once.
/// Unset, null, "", [] and {} are the same; records compare whatever the order of their keys.
std::vector<FieldChange> spec_changes(const ServerSpec& wanted, const Server& existing,
                                      const std::vector<std::string>& fields);

/// "ports: [8080] → [8081]; env: TOKEN differs": changes as one line; env values never shown.
std::string describe_changes(const std::vector<FieldChange>& changes);

/// The first server of `p` named `name` (list() order, deleted ones left out); nullopt: none.
std::optional<Server> find_server_named(Provider& p, const std::string& name);

/// What create_server did: `created` a new server, found it `unchanged`, or `replaced` one.
namespace server_change {
inline constexpr const char* created = "created";
inline constexpr const char* unchanged = "unchanged";
inline constexpr const char* replaced = "replaced";
}  // namespace server_change

struct CreateOutcome {
  Server server;                  ///< the server now named spec.name
  std::string change;             ///< a server_change
  std::optional<Server> removed;  ///< the server a replace deleted (its last state)
};

/// Creates the server `spec` describes unless `p` has one by its name: the same spec (per
/// spec_changes) → that server, `unchanged`; another spec → ProviderError
/// `provisioning::server::exists` whose message names each differing field, before and after
/// (describe_changes), unless `replace`: then the old one is removed and a new one created.
/// Checks the spec's fields first (check_spec_fields). Creates of one provider are serialized
/// through its identity_lock() so that two at once cannot both create a name.
CreateOutcome create_server(Provider& p, const ServerSpec& spec, bool replace,
                            const std::string& where = "the server spec");

}  // namespace prov
