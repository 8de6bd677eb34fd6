#pragma once
/// A server the workspace manages through `prov infra`: what the store keeps of it between
/// applies. The store keeps one record per name (workflow_store.hpp).
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// One managed server: its name in the infrastructure definition, where it lives, the spec the
/// last apply gave it (placeholders resolved) and the record its provider last reported.
struct ManagedServer {
  std::string name;
  std::string provider;
  std::string id;
  std::vector<std::string> depends_on;  ///< as the definition declared them, references included
  Datum spec;                           ///< the ServerSpec record applied (a record)
  Datum last;                           ///< the Server record last seen (null: none yet)

  /// {name, provider, id, depends_on, spec, last}.
  Datum to_datum() const;
  /// Reads what to_datum() wrote. Throws ResourceError `provisioning::state::corrupt_infra`
  /// naming `where` when a field is missing or of the wrong type.
  static ManagedServer from_datum(const Datum& d, const std::string& where);
  bool operator==(const ManagedServer&) const = default;
};

}  // namespace prov
