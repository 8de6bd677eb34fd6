#pragma once
/// `prov provider …`: the providers a workspace has and whether they can be used.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class ProviderListCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

}  // namespace prov::plugin
