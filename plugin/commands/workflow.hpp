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

/// The same, completing some of its arguments (workflow ids, --format).
#define PROV_WORKFLOW_COMMAND_COMPLETING(Name)                                                             \
  class Name : public Command {                                                                           \
   public:                                                                                                \
    Signature signature() const override;                                                                 \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
    std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,                       \
                                                           const GetCompletionInfo& info) const override; \
  };

PROV_WORKFLOW_COMMAND(WorkflowPlanCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowGraphCommand)
PROV_WORKFLOW_COMMAND(WorkflowRunCommand)
PROV_WORKFLOW_COMMAND(WorkflowSubmitCommand)
PROV_WORKFLOW_COMMAND(WorkflowListCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowStatusCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowLogsCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowCancelCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowResumeCommand)
PROV_WORKFLOW_COMMAND_COMPLETING(WorkflowRollbackCommand)

#undef PROV_WORKFLOW_COMMAND
#undef PROV_WORKFLOW_COMMAND_COMPLETING

}  // namespace prov::plugin
