#pragma once
/// `prov server …`: servers through a provider (`--provider`, default providers.default).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

#define PROV_SERVER_COMMAND(Name)                                                                          \
  class Name : public Command {                                                                           \
   public:                                                                                                \
    Signature signature() const override;                                                                 \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
  };

/// The same, completing its server id argument.
#define PROV_SERVER_ID_COMMAND(Name)                                                                       \
  class Name : public Command {                                                                           \
   public:                                                                                                \
    Signature signature() const override;                                                                 \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
    std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,                       \
                                                           const GetCompletionInfo& info) const override; \
  };

PROV_SERVER_COMMAND(ServerListCommand)
PROV_SERVER_COMMAND(ServerCreateCommand)
PROV_SERVER_ID_COMMAND(ServerGetCommand)
PROV_SERVER_ID_COMMAND(ServerDeleteCommand)

#undef PROV_SERVER_COMMAND
#undef PROV_SERVER_ID_COMMAND

}  // namespace prov::plugin
