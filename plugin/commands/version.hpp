#pragma once
/// `prov version`: the plugin's version, the engine's, the protocol and encoding in use, and
/// the features this pairing uses.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class VersionCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
  bool quick() const override { return true; }
};

}  // namespace prov::plugin
