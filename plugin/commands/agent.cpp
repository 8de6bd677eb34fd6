#include "plugin/commands/agent.hpp"

#include "plugin/commands/workspace_context.hpp"

namespace prov::plugin {

Signature AgentListCommand::signature() const {
  Signature s;
  s.name = "prov agent list";
  s.description = "The live agents of the workspace's shared (etcd) store: name, host, pid, start, and the workflows "
                  "their runners hold.";
  s.extra_description =
      "Agents (`nu_plugin_provisioning agent`) run on the hosts that share the workspace's etcd store and take over "
      "workflows nobody runs. A workspace on the file store (the default) has none: this command then fails saying "
      "how to configure the etcd store.";
  s.search_terms = {"etcd", "hosts", "workers", "cluster"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {{"try { prov agent list } catch {|e| $e.msg | str contains \"belongs to this host only\" }",
                 "The example workspace keeps its state in files on this host: no agents, and the error says so",
                 Value::boolean(true)}};
  return s;
}

PipelineOutput AgentListCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::unique_ptr<prov::WorkflowStore> store = open_store(load_workspace_config(engine, call, nullptr));
  const Span h = call.head;
  // The same refusal as an agent's registration gets, for a store of one host.
  if (store->runner_locator().rfind("etcd:", 0) != 0) store->register_agent({});
  std::vector<Value> rows;
  for (const auto& a : store->list_agents()) {
    std::vector<Value> running;
    for (const auto& id : a.running) running.push_back(Value::string(id, h));
    rows.push_back(Value::record({{"name", Value::string(a.name, h)},
                                  {"host", Value::string(a.host, h)},
                                  {"pid", Value::integer(a.pid, h)},
                                  {"started", a.started.empty() ? Value::nothing(h) : Value::date(a.started, h)},
                                  {"running", Value::list(std::move(running), h)}},
                                 h));
  }
  return PipelineOutput::of(Value::list(std::move(rows), h));
}

}  // namespace prov::plugin
