#pragma once
/// `prov extension list` and `prov extension get <name>`: extensions found in the workspace,
/// with their problems.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class ExtensionListCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

class ExtensionGetCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
  std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,
                                                         const GetCompletionInfo& info) const override;
};

}  // namespace prov::plugin
