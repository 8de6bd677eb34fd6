#include "plugin/commands/group.hpp"

namespace prov::plugin {

Signature GroupCommand::signature() const {
  Signature s;
  s.name = name_;
  s.description = description_;
  s.extra_description = "You must use one of the subcommands below.";
  s.search_terms = search_terms_;
  s.input_output_types = {{type::nothing(), type::string()}};
  s.examples = {{name_ + " | lines | first", "The help starts with what the subcommands are for",
                 Value::string(description_)}};
  return s;
}

PipelineOutput GroupCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  return PipelineOutput::of(Value::string(engine.get_help(), call.head));
}

}  // namespace prov::plugin
