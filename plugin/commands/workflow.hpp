#pragma once
/// `prov workflow …`: plan, draw, run, submit and control workflows. A run happens in a
/// detached runner process so it outlives the Nu session; `run`, `resume` and `rollback`
/// follow its event log as a stream.

#include <functional>

#include "core/support/datum.hpp"
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

/// Runs the workflow `document` (`origin` names it) as `prov workflow run` does: checked against
/// the call's workspace, journaled, in a runner; returns its event stream, which ends with the
/// same error when the workflow does not complete. `before_launch(id)` runs once the workflow is
/// recorded, before its runner starts; `at_end()` once the stream has seen the workflow end and
/// its runner let go (not when the stream is dropped); an exception from it ends the stream
/// with that error. --allow-failure (allow_failure_flag) on the call leaves the error out.
PipelineOutput run_and_follow(EngineInterface& engine, const EvaluatedCall& call, Datum document, std::string origin,
                              std::function<void(const std::string& id)> before_launch, std::function<void()> at_end);

/// --allow-failure, for the commands whose stream ends with an error when the workflow fails.
Flag allow_failure_flag();

}  // namespace prov::plugin
