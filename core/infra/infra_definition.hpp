#pragma once
/// An infrastructure definition: the servers a workspace should have, by name (DESIGN.md,
/// "Infrastructure: desired state"). A TOML or JSON file, or a record from Nu:
///   [vars]            values `{{vars.<name>}}` stands for
///   [servers.<name>]  a ServerSpec's fields (plan, labels, command, env, cwd, ports) plus
///                     `provider` (default: providers.default) and `depends_on` (names)
/// `{{servers.<name>.<field>}}` in a field reads another server's field and makes it a
/// dependency (infra_refs.hpp).
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// One declared server.
struct InfraServer {
  std::string name;
  std::string provider;                 ///< empty: the workspace's default provider
  std::vector<std::string> depends_on;  ///< declared and implied by references, in that order, unique
  Datum spec;                           ///< its ServerSpec fields as written, `name` first (a record)
};

/// A parsed, checked definition: every dependency names a declared server, no cycles.
struct InfraDefinition {
  std::string origin;  ///< the file, or "pipeline input", for messages
  DatumRecord vars;
  std::vector<InfraServer> servers;  ///< dependencies before dependents (definition order otherwise)

  /// The server called `name`; nullptr when none.
  const InfraServer* find(const std::string& name) const;
};

/// The fields a declared server may have.
const std::vector<std::string>& infra_server_fields();

/// Parses and checks `doc`; `origin` names it in messages. Throws ConfigError with every problem
/// at once (the first, the others as related), each naming the origin and the field:
///   provisioning::infra::unknown_field   a field that is not one (did you mean …)
///   provisioning::infra::wrong_type      a field of the wrong type
///   provisioning::infra::unknown_server  depends_on or a reference naming no declared server
///   provisioning::infra::unknown_var     `{{vars.<name>}}` naming no variable
///   provisioning::infra::bad_name        a server name that is not letters, digits, `_`, `-`, `.`
///   provisioning::infra::cycle           servers that depend on one another in a circle
InfraDefinition parse_infra_definition(const Datum& doc, const std::string& origin);

/// Reads a definition file (.toml or .json) as a record. Throws ConfigError
/// `provisioning::infra::read` / `provisioning::config::parse` (positioned).
Datum load_infra_file(const std::string& path);

}  // namespace prov
