#pragma once
/// An infrastructure plan as a workflow: `server.delete` operations (`delete-<name>`, dependents
/// first) and `server.create` operations (`create-<name>`, after the creates of what they depend
/// on and after their own delete when replaced). The workflow engine runs it journaled, in
/// parallel, with retries and, on failure, the rollback of what it created. Beside it, the
/// pending-apply record that maps its operations back to names, so the managed state is recorded
/// from the journal's results (apply_record.hpp), also after a killed runner is resumed.
#include <string>

#include "core/infra/infra_plan.hpp"
#include "core/support/datum.hpp"

namespace prov {

struct InfraWorkflow {
  Datum document;  ///< the workflow record (name, operations; vars when placeholders need them)
  /// {kind, ops: {<op id>: {name, provider, depends_on, spec}}}; workflow_id is added once submitted.
  Datum pending;
};

/// The workflow that carries out `plan` (its create, replace and delete entries; updates and noops
/// need none). `kind` is "apply" or "destroy"; `vars` become the workflow's `vars` table when a
/// spec holds placeholders only the run resolves.
InfraWorkflow infra_workflow(const InfraPlan& plan, const std::string& kind, const DatumRecord& vars);

}  // namespace prov
