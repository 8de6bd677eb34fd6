#include "plugin/engine/engine_interface.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "plugin/engine/labeled_error_exception.hpp"
#include "plugin/engine/pipeline.hpp"
#include "plugin/engine/plugin_server.hpp"

namespace prov::plugin {

EngineCallResponse EngineInterface::call(Wire engine_call) { return server_.engine_call(context_, std::move(engine_call)); }

Value EngineInterface::expect_value(const EngineCallResponse& r, const char* what) {
  if (r.kind != EngineCallResponse::Kind::PipelineData || r.data.kind != PipelineDataHeader::Kind::Value)
    throw std::runtime_error(std::string("the engine answered ") + what + " with " + r.variant);
  return *r.data.value;
}

std::string EngineInterface::get_current_dir() {
  if (cwd_) return *cwd_;
  if (caller_ == CallerContext::PluginProcess) {
    const char* pwd = std::getenv("PWD");
    if (!pwd || pwd[0] != '/')
      throw std::runtime_error("no current directory: PWD was not set when Nushell started the plugin");
    cwd_ = pwd;
    return *cwd_;
  }
  Value v = expect_value(call("GetCurrentDir"), "GetCurrentDir");
  if (!v.is(Value::Type::String)) throw std::runtime_error("GetCurrentDir: not a string");
  cwd_ = v.as_string();
  return *cwd_;
}

std::optional<Value> EngineInterface::get_env_var(const std::string& name) {
  if (caller_ == CallerContext::PluginProcess) {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<Value>(Value::string(v)) : std::nullopt;
  }
  EngineCallResponse r = call(Wire{{"GetEnvVar", name}});
  if (r.kind == EngineCallResponse::Kind::PipelineData && r.data.kind == PipelineDataHeader::Kind::Empty)
    return std::nullopt;
  Value v = expect_value(r, "GetEnvVar");
  if (v.is(Value::Type::Nothing)) return std::nullopt;
  return v;
}

Record EngineInterface::get_env_vars() {
  if (env_vars_) return *env_vars_;
  if (caller_ == CallerContext::PluginProcess) {
    env_vars_.emplace();
    for (char** e = ::environ; *e; ++e)
      if (const char* eq = std::strchr(*e, '='))
        env_vars_->emplace_back(std::string(*e, static_cast<size_t>(eq - *e)), Value::string(eq + 1));
    return *env_vars_;
  }
  EngineCallResponse r = call("GetEnvVars");
  if (r.kind != EngineCallResponse::Kind::ValueMap)
    throw std::runtime_error("the engine answered GetEnvVars with " + r.variant);
  env_vars_ = std::move(r.map);
  return *env_vars_;
}

std::optional<Value> EngineInterface::get_plugin_config() {
  if (plugin_config_) return *plugin_config_;
  if (caller_ == CallerContext::PluginProcess) return std::nullopt;
  EngineCallResponse r = call("GetPluginConfig");
  if (r.kind == EngineCallResponse::Kind::PipelineData && r.data.kind == PipelineDataHeader::Kind::Empty) {
    plugin_config_.emplace(std::nullopt);
    return std::nullopt;
  }
  Value v = expect_value(r, "GetPluginConfig");
  plugin_config_.emplace(v.is(Value::Type::Nothing) ? std::nullopt : std::optional<Value>(v));
  return *plugin_config_;
}

std::string EngineInterface::get_help() {
  Value v = expect_value(call("GetHelp"), "GetHelp");
  return v.is(Value::Type::String) ? v.as_string() : std::string();
}

Value EngineInterface::eval_closure(const Value& closure, std::vector<Value> positional, std::optional<Value> input) {
  const Dialect d = server_.connection().dialect();
  Wire args = Wire::array();
  for (const auto& p : positional) args.push_back(to_wire(p, d));
  Wire body = {{"closure", {{"item", to_wire(std::get<Closure>(closure.payload), d)}, {"span", to_wire(closure.span)}}},
               {"positional", std::move(args)},
               {"input", input ? value_header(*input, d) : empty_header()},
               {"redirect_stdout", true},
               {"redirect_stderr", false}};
  std::shared_ptr<InputStream> stream;
  EngineCallResponse r = server_.engine_call(context_, Wire{{"EvalClosure", std::move(body)}}, &stream);
  if (r.kind != EngineCallResponse::Kind::PipelineData)
    throw std::runtime_error("the engine answered EvalClosure with " + r.variant);
  PipelineInput output(r.data, stream, &server_.connection());
  Value v = output.collect();
  if (v.is(Value::Type::Error)) throw LabeledErrorException(v.as_error());
  return v;
}

void EngineInterface::add_env_var(const std::string& name, const Value& value) {
  Wire args = Wire::array();
  args.push_back(name);
  args.push_back(to_wire(value, server_.connection().dialect()));
  call(Wire{{"AddEnvVar", std::move(args)}});
}

void EngineInterface::set_gc_disabled(bool disabled) { server_.send_option_gc_disabled(disabled); }

bool EngineInterface::interrupted() const { return server_.signals().interrupted(); }
Signals& EngineInterface::signals() { return server_.signals(); }
const std::string& EngineInterface::engine_version() const { return server_.engine_version(); }
std::string EngineInterface::encoding() const { return std::string(server_.connection().codec().name()); }

std::vector<std::string> EngineInterface::features_in_use() const {
  std::vector<std::string> f;
  if (server_.connection().dialect().text_ranges_and_cell_paths) f.push_back("text-ranges-and-cell-paths");
  if (auto v = parse_semver(engine_version()); v && *v >= kCompletionsEngine) f.push_back("completions");
  return f;
}

}  // namespace prov::plugin
