#pragma once
/// Everything a run would refuse, refused before anything runs: `prov workflow plan`,
/// `run --dry-run`, `run` and `submit` ask the same question and get every problem at once.

#include <string>
#include <vector>

#include "core/graph/dag.hpp"
#include "core/graph/workflow.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// The workspace a workflow is checked against: what its run will have.
struct PreflightContext {
  std::string workspace;  ///< absolute root
  const Datum* config = nullptr;  ///< the merged configuration the run gets (its snapshot)
  std::string nu_path;  ///< the `nu` whose parser checks Nu code; "" leaves code unchecked
};

/// `doc` parsed over workspace_settings() of the configuration, and checked against the
/// workspace: the configuration's `[limits]`, every `file.write` path inside the workspace,
/// every `server.*` operation's provider known and usable, every string of Nu code (`code`,
/// `rollback` of `nu` operations) taken by Nu's parser. Operations are checked even when the
/// document has other problems. Throws LimitError alone when the document is over this
/// process's or the configuration's limits; else WorkflowError blamed on the input: the one
/// problem, or `provisioning::workflow::invalid` with each problem (its own code) as a related
/// error.
WorkflowSpec preflight_workflow(const Datum& doc, const std::string& origin, const PreflightContext& ctx,
                                Dag* dag = nullptr);
/// The same, moving the operations' records out of `doc` (parse_workflow(Datum&&)).
WorkflowSpec preflight_workflow(Datum&& doc, const std::string& origin, const PreflightContext& ctx,
                                Dag* dag = nullptr);

/// The fields of an operation's record the preflight reads besides its id and kind: what
/// read_workflow_file must keep of each operation for preflight_workflow_file.
const std::vector<std::string>& preflight_fields();

/// preflight_workflow of a file read by read_workflow_file(path, preflight_fields()): the same
/// problems and spec, without the whole document when the file was streamed (the spec's
/// operations then hold only the kept fields: for planning, not running).
WorkflowSpec preflight_workflow_file(WorkflowFile&& file, const std::string& origin, const PreflightContext& ctx,
                                     Dag* dag = nullptr);

}  // namespace prov
