#pragma once
/// `prov cache …`: the plugin's TTL cache (provider availability).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class CacheCommand : public Command {
 public:
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;
};

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
