#include "plugin/commands/prov.hpp"

namespace prov::plugin {

Signature ProvCommand::signature() const {
  Signature s;
  s.name = "prov";
  s.description = "Infrastructure provisioning: configuration, workflows, providers and servers.";
  s.extra_description =
      "You must use one of the subcommands below. Run `help prov <subcommand>` for details on each, "
      "or `help commands | where name starts-with 'prov'` for the list as a table.";
  s.search_terms = {"provisioning", "infrastructure", "workflow", "deploy"};
  s.input_output_types = {{type::nothing(), type::string()}};
  s.examples = {{"prov | str contains 'prov workflow run'", "The help lists every provisioning command",
                 Value::boolean(true)}};
  return s;
}

PipelineOutput ProvCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return PipelineOutput::of(Value::string(engine.get_help(), call.head));
}

}  // namespace prov::plugin
