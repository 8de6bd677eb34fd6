#pragma once
/// A Nushell command this plugin provides: one type that knows its signature (name, help,
/// arguments, types, examples) and how to run. Adding a command is one file and one line in
/// registry.cpp.

#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "plugin/engine/engine_interface.hpp"
#include "plugin/engine/pipeline.hpp"
#include "plugin/protocol/signature.hpp"

namespace prov::plugin {

class Command {
 public:
  virtual ~Command() = default;
  virtual Signature signature() const = 0;
  /// Runs the command. Throws LabeledErrorException, or a prov::Error that the registry turns
  /// into a labeled error pointing at the argument or input it blames.
  virtual PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const = 0;
  /// Completion items for the argument `info` asks about, or nullopt to let the engine complete
  /// it its own way (files, values of the argument's type). Runs on a worker; may ask the engine
  /// for its current directory and environment; must be quick and start no provider processes.
  /// By default: the flags many commands share (--env, --provider; completions.hpp).
  virtual std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,
                                                                 const GetCompletionInfo& info) const;
  /// True for commands that answer at once without engine calls or blocking: they run on the
  /// protocol thread instead of a worker.
  virtual bool quick() const { return false; }
};

/// Declares a command type with just a signature and a run: most commands. Defined in its .cpp.
#define PROV_DECLARE_COMMAND(Name)                                                                   \
  class Name : public Command {                                                                     \
   public:                                                                                          \
    Signature signature() const override;                                                           \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
  }

/// The same, for a command that completes some of its arguments itself.
#define PROV_DECLARE_COMPLETING_COMMAND(Name)                                                        \
  class Name : public Command {                                                                     \
   public:                                                                                          \
    Signature signature() const override;                                                           \
    PipelineOutput run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const override; \
    std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine,                 \
                                                           const GetCompletionInfo& info) const override; \
  }

class CommandRegistry {
 public:
  void add(std::unique_ptr<Command> c);
  /// The command called `name`, or nullptr. Constant time.
  const Command* find(const std::string& name) const;
  const std::vector<std::unique_ptr<Command>>& all() const { return commands_; }
  /// Runs `name` and converts any failure into a LabeledErrorException with a span.
  PipelineOutput invoke(const std::string& name, EngineInterface& engine, const EvaluatedCall& call,
                        PipelineInput& input) const;
  /// The completion items of `info.name`'s command; nullopt for a command it does not know.
  /// Failures throw LabeledErrorException.
  std::optional<std::vector<DynamicSuggestion>> complete(EngineInterface& engine, const GetCompletionInfo& info) const;

 private:
  std::vector<std::unique_ptr<Command>> commands_;
  std::unordered_map<std::string, const Command*> by_name_;
};

/// Every command of the plugin.
CommandRegistry make_registry();

}  // namespace prov::plugin
