#pragma once
/// `prov config`, `prov config sources`, `prov config get`: the workspace's merged,
/// interpolated configuration, where each leaf came from, and one value by path.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class ConfigCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

class ConfigSourcesCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

class ConfigGetCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
  std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,
                                                         const GetCompletionInfo& info) const override;
};

}  // namespace prov::plugin
