#include "plugin/commands/version.hpp"

#include "core/support/version.hpp"
#include "plugin/protocol/engine_version.hpp"

namespace prov::plugin {

Signature VersionCommand::signature() const {
  Signature s;
  s.name = "prov version";
  s.description = "Show the plugin's version, the engine's version, and the protocol and encoding in use.";
  s.search_terms = {"about", "info", "engine", "encoding"};
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov version | select plugin protocol", "Who is talking: the plugin and its protocol",
                 Value::record({{"plugin", Value::string("nu_plugin_provisioning")},
                                {"protocol", Value::string("nu-plugin")}})},
                {"prov version | get plugin_version", "Only the plugin's version", Value::string(prov::kVersion)}};
  return s;
}

PipelineOutput VersionCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  Span h = call.head;
  std::vector<Value> features;
  for (const auto& f : engine.features_in_use()) features.push_back(Value::string(f, h));
  Record r{
      {"plugin", Value::string("nu_plugin_provisioning", h)},
      {"plugin_version", Value::string(prov::kVersion, h)},
      {"engine_version", Value::string(engine.engine_version(), h)},
      {"protocol", Value::string("nu-plugin", h)},
      {"protocol_version", Value::string(engine.engine_version(), h)},
      {"encoding", Value::string(engine.encoding(), h)},
      {"supported_engines", Value::string(supported_range_text(), h)},
      {"features", Value::list(std::move(features), h)},
  };
  return PipelineOutput::of(Value::record(std::move(r), h));
}

}  // namespace prov::plugin
