#pragma once
/// `prov workflow …`: plan, draw, run, submit and control workflows. A run happens in a
/// detached runner process so it outlives the Nu session; `run`, `resume` and `rollback`
/// follow its event log as a stream.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMPLETING_COMMAND(WorkflowPlanCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowGraphCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowRunCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowSubmitCommand);
PROV_DECLARE_COMMAND(WorkflowListCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowStatusCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowLogsCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowCancelCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowResumeCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowRollbackCommand);
PROV_DECLARE_COMPLETING_COMMAND(WorkflowWaitCommand);

/// A workflow run to its end by submit_and_wait.
struct SubmittedRun {
  std::string workflow_id;
  std::string workspace;  ///< the workspace root it ran in
  Value status;           ///< its status record, as `prov workflow wait` returns it
};

/// Runs the workflow `document` (`origin` names it in messages) as `prov workflow submit` does
/// (checked against the call's workspace, journaled, in a runner) and waits for its end as
/// `prov workflow wait` does: throws the labeled error of a workflow that did not complete.
SubmittedRun submit_and_wait(EngineInterface& engine, const EvaluatedCall& call, Datum document, std::string origin);

}  // namespace prov::plugin
