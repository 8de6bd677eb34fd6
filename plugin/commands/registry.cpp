#include "plugin/commands/cache.hpp"
#include "plugin/commands/command.hpp"
#include "plugin/commands/config.hpp"
#include "plugin/commands/config_set.hpp"
#include "plugin/commands/events.hpp"
#include "plugin/commands/extension.hpp"
#include "plugin/commands/group.hpp"
#include "plugin/commands/infra.hpp"
#include "plugin/commands/prov.hpp"
#include "plugin/commands/provider.hpp"
#include "plugin/commands/agent.hpp"
#include "plugin/commands/serve.hpp"
#include "plugin/commands/server.hpp"
#include "plugin/commands/version.hpp"
#include "plugin/commands/workflow.hpp"
#include "plugin/commands/workflow_repair.hpp"
#include "plugin/commands/workspace.hpp"

namespace prov::plugin {

CommandRegistry make_registry() {
  CommandRegistry r;
  r.add(std::make_unique<ProvCommand>());
  r.add(std::make_unique<VersionCommand>());
  r.add(std::make_unique<ConfigCommand>());
  r.add(std::make_unique<ConfigSourcesCommand>());
  r.add(std::make_unique<ConfigGetCommand>());
  r.add(std::make_unique<ConfigSetCommand>());
  r.add(std::make_unique<GroupCommand>(
      "prov workflow", "Dependency-ordered workflows: plan, draw, run, submit, follow, cancel, resume, roll back, repair.",
      std::vector<std::string>{"dag", "pipeline", "orchestration", "jobs"}));
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
  r.add(std::make_unique<WorkflowWaitCommand>());
  r.add(std::make_unique<WorkflowRepairCommand>());
  r.add(std::make_unique<EventsCommand>());
  r.add(std::make_unique<GroupCommand>("prov provider", "Providers: what creates, lists and deletes servers.",
                                       std::vector<std::string>{"cloud", "backend", "infrastructure"}));
  r.add(std::make_unique<ProviderListCommand>());
  r.add(std::make_unique<GroupCommand>("prov server", "Servers: create, list, inspect, stop, start, follow the logs of and delete them through a provider.",
                                       std::vector<std::string>{"machine", "instance", "vm", "host", "process"}));
  r.add(std::make_unique<ServerListCommand>());
  r.add(std::make_unique<ServerCreateCommand>());
  r.add(std::make_unique<ServerGetCommand>());
  r.add(std::make_unique<ServerDeleteCommand>());
  r.add(std::make_unique<ServerStopCommand>());
  r.add(std::make_unique<ServerStartCommand>());
  r.add(std::make_unique<ServerRestartCommand>());
  r.add(std::make_unique<ServerLogsCommand>());
  r.add(std::make_unique<GroupCommand>("prov infra",
                                       "Desired state: plan, apply, destroy, drift and import of declared servers.",
                                       std::vector<std::string>{"infrastructure", "terraform", "converge"}));
  r.add(std::make_unique<InfraPlanCommand>());
  r.add(std::make_unique<InfraApplyCommand>());
  r.add(std::make_unique<InfraDestroyCommand>());
  r.add(std::make_unique<InfraDriftCommand>());
  r.add(std::make_unique<InfraImportCommand>());
  r.add(std::make_unique<InfraStateCommand>());
  r.add(std::make_unique<GroupCommand>("prov extension", "Extensions: folders under extensions/ described by an extension.toml.",
                                       std::vector<std::string>{"plugins", "addons", "modules"}));
  r.add(std::make_unique<ExtensionListCommand>());
  r.add(std::make_unique<ExtensionGetCommand>());
  r.add(std::make_unique<GroupCommand>("prov serve", "The HTTP service: the workflow core as a REST API (docs/API.md).",
                                       std::vector<std::string>{"http", "rest", "api"}));
  r.add(std::make_unique<ServeStartCommand>());
  r.add(std::make_unique<ServeStatusCommand>());
  r.add(std::make_unique<ServeStopCommand>());
  r.add(std::make_unique<GroupCommand>("prov cache", "The plugin's TTL cache: answers that are slow to get and may be a little old.",
                                       std::vector<std::string>{"ttl", "memo"}));
  r.add(std::make_unique<CacheStatsCommand>());
  r.add(std::make_unique<CacheClearCommand>());
  r.add(std::make_unique<GroupCommand>("prov workspace", "Workspaces: make one, see the one in effect, switch to one.",
                                       std::vector<std::string>{"project", "folder", "root"}));
  r.add(std::make_unique<WorkspaceInitCommand>());
  r.add(std::make_unique<WorkspaceInfoCommand>());
  r.add(std::make_unique<WorkspaceUseCommand>());
  r.add(std::make_unique<GroupCommand>("prov agent", "Agents: the processes on several hosts that share a workspace's etcd store.",
                                       std::vector<std::string>{"etcd", "hosts", "cluster"}));
  r.add(std::make_unique<AgentListCommand>());
  return r;
}

}  // namespace prov::plugin
