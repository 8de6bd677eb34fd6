#pragma once
/// `prov extension …` and `prov cache …`: extensions found in the workspace, and the plugin's
/// TTL cache.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

#define PROV_SIMPLE_COMMAND(Name)                                                                          \
  class Name : public Command {                                                                           \
   public:                                                                                                \
    Signature signature() const override;                                                                 \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
  };

PROV_SIMPLE_COMMAND(ExtensionCommand)
PROV_SIMPLE_COMMAND(ExtensionListCommand)

#undef PROV_SIMPLE_COMMAND

}  // namespace prov::plugin
