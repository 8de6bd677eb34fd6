#pragma once
/// `prov workflow …`: plan, draw, run, submit and control workflows. A run happens in a
/// detached runner process so it outlives the Nu session; `run`, `resume` and `rollback`
/// follow its event log as a stream.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

#define PROV_WORKFLOW_COMMAND(Name)                                                                        \
  class Name : public Command {                                                                           \
   public:                                                                                                \
    Signature signature() const override;                                                                 \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
  };

PROV_WORKFLOW_COMMAND(WorkflowPlanCommand)
PROV_WORKFLOW_COMMAND(WorkflowGraphCommand)
PROV_WORKFLOW_COMMAND(WorkflowRunCommand)
PROV_WORKFLOW_COMMAND(WorkflowSubmitCommand)
PROV_WORKFLOW_COMMAND(WorkflowListCommand)
PROV_WORKFLOW_COMMAND(WorkflowStatusCommand)
PROV_WORKFLOW_COMMAND(WorkflowLogsCommand)
PROV_WORKFLOW_COMMAND(WorkflowCancelCommand)
PROV_WORKFLOW_COMMAND(WorkflowResumeCommand)
PROV_WORKFLOW_COMMAND(WorkflowRollbackCommand)

#undef PROV_WORKFLOW_COMMAND

}  // namespace prov::plugin
