#pragma once
/// `prov extension list`: extensions found in the workspace, with their problems.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class ExtensionListCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

}  // namespace prov::plugin
