#pragma once
/// `prov agent list`: the live agents of a workspace's shared (etcd) store, and what each runs.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class AgentListCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

}  // namespace prov::plugin
