#pragma once
/// A workflow as the core runs it: a name, settings, and operations that depend on each other.
/// Parsed and validated from a Datum (a Nu record, or a TOML/JSON file) by parse_workflow().

#include <optional>
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// How often and how patiently an operation is tried: `attempts` tries in all, waiting
/// `backoff` before the second, doubling up to `max_backoff`, each wait with jitter.
struct RetryPolicy {
  int attempts = 1;
  Duration backoff{500'000'000};
  Duration max_backoff{30'000'000'000};
  bool operator==(const RetryPolicy&) const = default;
};

/// One operation of a workflow.
struct OperationSpec {
  std::string id;
  std::string kind;  ///< command, nu, file.write, config.set, server.create, server.delete
  std::vector<std::string> depends_on;
  /// Operations its fields reference ({{ops.<id>…}}) that depends_on does not list: implicit
  /// dependencies, in the order first referenced.
  std::vector<std::string> implicit_deps;
  std::optional<RetryPolicy> retry;   ///< overrides the workflow's
  std::optional<Duration> timeout;    ///< overrides the workflow's
  Datum fields;                       ///< the operation's whole record, kind-specific fields included
};

/// Workflow-wide settings.
struct WorkflowSettings {
  int parallel = 0;  ///< at most this many operations at once; 0 means the number of cores
  RetryPolicy retry;
  std::optional<Duration> timeout;  ///< per operation attempt
  bool rollback_on_failure = true;
};

struct WorkflowSpec {
  std::string name;
  WorkflowSettings settings;
  Datum vars;                             ///< the `vars` record ({{vars.<name>}}); null when there is none
  std::vector<OperationSpec> operations;  ///< in the order written
};

}  // namespace prov
