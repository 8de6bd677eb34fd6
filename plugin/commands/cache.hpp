#pragma once
/// `prov cache stats` and `prov cache clear`: the plugin's TTL cache (provider availability).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class CacheStatsCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
  bool quick() const override { return true; }
};

class CacheClearCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
  bool quick() const override { return true; }
};

}  // namespace prov::plugin
