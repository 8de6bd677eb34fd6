#pragma once
/// `prov`: the group command; lists the plugin's commands as Nushell's own plugins do.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class ProvCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

}  // namespace prov::plugin
