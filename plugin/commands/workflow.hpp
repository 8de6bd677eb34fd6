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

}  // namespace prov::plugin
