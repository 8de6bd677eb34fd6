#include "plugin/commands/command.hpp"
#include "plugin/commands/config.hpp"
#include "plugin/commands/prov.hpp"
#include "plugin/commands/version.hpp"
#include "plugin/commands/workflow.hpp"

namespace prov::plugin {

CommandRegistry make_registry() {
  CommandRegistry r;
  r.add(std::make_unique<ProvCommand>());
  r.add(std::make_unique<VersionCommand>());
  r.add(std::make_unique<ConfigCommand>());
  r.add(std::make_unique<ConfigSourcesCommand>());
  r.add(std::make_unique<ConfigGetCommand>());
  r.add(std::make_unique<WorkflowCommand>());
  r.add(std::make_unique<WorkflowPlanCommand>());
  r.add(std::make_unique<WorkflowGraphCommand>());
  r.add(std::make_unique<WorkflowRunCommand>());
  r.add(std::make_unique<WorkflowSubmitCommand>());
  r.add(std::make_unique<WorkflowListCommand>());
  r.add(std::make_unique<WorkflowStatusCommand>());
  r.add(std::make_unique<WorkflowLogsCommand>());
  r.add(std::make_unique<WorkflowCancelCommand>());
  r.add(std::make_unique<WorkflowResumeCommand>());
  r.add(std::make_unique<WorkflowRollbackCommand>());
  return r;
}

}  // namespace prov::plugin
