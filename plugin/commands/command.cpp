#include "plugin/commands/command.hpp"

#include "core/support/error.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/core_error.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

void CommandRegistry::add(std::unique_ptr<Command> c) {
  by_name_[c->signature().name] = c.get();
  commands_.push_back(std::move(c));
}

const Command* CommandRegistry::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

PipelineOutput CommandRegistry::invoke(const std::string& name, EngineInterface& engine, const EvaluatedCall& call,
                                       PipelineInput& input) const {
  const Command* cmd = find(name);
  if (!cmd)
    throw labeled("Unknown command '" + name + "'", "not a command of this plugin", call.head,
                  "provisioning::plugin::unknown_command", "run `plugin use provisioning` to refresh its signatures");
  try {
    return cmd->run(engine, call, input);
  } catch (const prov::Error& e) {
    throw LabeledErrorException(to_labeled_error(e, cmd->signature(), call, input.span()));
  }
}

std::optional<std::vector<DynamicSuggestion>> Command::complete(EngineInterface& engine,
                                                               const GetCompletionInfo& info) const {
  return complete_shared_flags(engine, info);
}

std::optional<std::vector<DynamicSuggestion>> CommandRegistry::complete(EngineInterface& engine,
                                                                        const GetCompletionInfo& info) const {
  const Command* cmd = find(info.name);
  if (!cmd) return std::nullopt;
  try {
    return cmd->complete(engine, info);
  } catch (const prov::Error& e) {
    throw LabeledErrorException(to_labeled_error(e, cmd->signature(), info.call, info.call.head));
  }
}

}  // namespace prov::plugin
