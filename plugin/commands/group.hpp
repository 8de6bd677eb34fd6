#pragma once
/// A group command (`prov server`, `prov cache`, …): it runs nothing itself and answers with
/// its help, which lists its subcommands, as Nushell's own group commands do.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

class GroupCommand : public Command {
 public:
  GroupCommand(std::string name, std::string description, std::vector<std::string> search_terms)
      : name_(std::move(name)), description_(std::move(description)), search_terms_(std::move(search_terms)) {}
  Signature signature() const override;
  PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override;

 private:
  std::string name_, description_;
  std::vector<std::string> search_terms_;
};

}  // namespace prov::plugin
