#pragma once
/// What `prov infra plan` shows and `prov infra apply` runs: each declared or managed server's
/// action (create, update, replace, delete, noop), the fields that change and why. References
/// are resolved here as far as they are known before anything runs (variables, the declared
/// fields of other servers, the recorded records of servers that stay); what only the apply
/// learns (a new server's id) becomes a workflow placeholder `{{ops.create-<name>.out.<field>}}`.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/infra/infra_definition.hpp"
#include "core/state/managed_server.hpp"
#include "core/support/datum.hpp"

namespace prov {

namespace infra_action {
inline constexpr const char* create = "create";
inline constexpr const char* update = "update";
inline constexpr const char* replace = "replace";
inline constexpr const char* del = "delete";
inline constexpr const char* noop = "noop";
}  // namespace infra_action

struct FieldChange {
  std::string field;
  Datum before;
  Datum after;
};

struct InfraPlanEntry {
  std::string action;
  std::string name;
  std::string provider;
  std::vector<FieldChange> changes;
  std::string reason;
  Datum spec;                           ///< the spec to apply (create, replace, update, noop); null for delete
  bool spec_known = true;               ///< false: it holds placeholders only the apply resolves
  std::string id;                       ///< the managed server's id (update, replace, delete, noop)
  std::vector<std::string> depends_on;  ///< the definition's (delete: the recorded ones)
};

/// What the providers report now, for the plan: each provider's servers by id (a provider
/// missing from the map was not asked), and which fields a provider changes in place.
struct ProvidersNow {
  std::map<std::string, std::map<std::string, Datum>> servers;
  std::function<bool(const std::string& provider, const std::string& field)> in_place;
};

struct InfraPlan {
  std::vector<InfraPlanEntry> entries;  ///< declared servers, dependencies first; then deletes, dependents first
  /// True when every entry is noop.
  bool nothing_to_do() const;
  /// True when carrying it out takes a workflow (a create, replace or delete).
  bool needs_workflow() const;
};

/// The op id that creates (`create-<name>`) or deletes (`delete-<name>`) server `name` in an apply.
std::string create_op_id(const std::string& name);
std::string delete_op_id(const std::string& name);

/// The plan that brings `managed` to `def`. `default_provider` stands for servers that name none.
InfraPlan make_infra_plan(const InfraDefinition& def, const std::vector<ManagedServer>& managed,
                          const std::string& default_provider, const ProvidersNow& now);

/// The plan that deletes `managed` servers (those of `only`, every one when empty), dependents first.
InfraPlan make_destroy_plan(const std::vector<ManagedServer>& managed, const std::vector<std::string>& only);

}  // namespace prov
