#pragma once
/// What a running command may ask of the engine, always in the context of its own call:
/// current directory, environment, plugin configuration, help text; plus Ctrl-C state and the
/// GcDisabled option.

#include <optional>
#include <string>

#include "plugin/engine/signals.hpp"
#include "plugin/protocol/messages.hpp"

namespace prov::plugin {

class PluginServer;

/// Who answers a call's questions about its caller: the engine, or (for completions on engines
/// that refuse engine calls then) this process, from the environment Nushell started it with:
/// `$env.PWD` and the variables of that moment, no plugin configuration.
enum class CallerContext { Engine, PluginProcess };

class EngineInterface {
 public:
  EngineInterface(PluginServer& server, CallId context, CallerContext caller = CallerContext::Engine)
      : server_(server), context_(context), caller_(caller) {}

  /// Nu's current directory, absolute. Like the environment and the plugin configuration, asked
  /// of the engine once per call and remembered: a call cannot change its caller's scope.
  std::string get_current_dir();
  /// An environment variable of the caller's scope, or nullopt when unset.
  std::optional<Value> get_env_var(const std::string& name);
  /// Every environment variable of the caller's scope.
  Record get_env_vars();
  /// `$env.config.plugins.provisioning`, or nullopt when not set.
  std::optional<Value> get_plugin_config();
  /// The formatted help of the running command.
  std::string get_help();
  /// Evaluates `closure` (a Closure value) in the engine with `positional` arguments and
  /// `input` as its pipeline input (nothing when nullopt), and returns its whole output: a list
  /// stream collected into a List, a byte stream into a String (or Binary). External commands'
  /// stdout is captured, their stderr is not. The closure's error throws LabeledErrorException.
  Value eval_closure(const Value& closure, std::vector<Value> positional, std::optional<Value> input);
  /// Sets `$env.<name>` in the caller's scope, as `def --env` would, once the call returns.
  void add_env_var(const std::string& name, const Value& value);
  /// Keeps the engine from stopping this plugin while background work runs.
  void set_gc_disabled(bool disabled);

  bool interrupted() const;
  Signals& signals();
  CallId context() const { return context_; }
  /// The engine's version as it said in Hello, and the encoding in use.
  const std::string& engine_version() const;
  std::string encoding() const;
  /// Engine features this plugin uses (from the engine's Hello and the version's dialect).
  std::vector<std::string> features_in_use() const;

  /// Sends one engine call and waits for its answer. An Error answer throws
  /// LabeledErrorException; the engine going away throws std::runtime_error.
  EngineCallResponse call(Wire engine_call);

 private:
  Value expect_value(const EngineCallResponse& r, const char* what);

  PluginServer& server_;
  CallId context_;
  CallerContext caller_;
  std::optional<std::string> cwd_;               ///< GetCurrentDir's answer, once asked
  std::optional<Record> env_vars_;               ///< GetEnvVars' answer, once asked
  std::optional<std::optional<Value>> plugin_config_;  ///< GetPluginConfig's answer, once asked
};

}  // namespace prov::plugin
