#include "plugin/commands/provider.hpp"

#include "core/support/redact.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/provider_session.hpp"
#include "plugin/commands/workspace_context.hpp"

namespace prov::plugin {

Signature ProviderListCommand::signature() const {
  Signature s;
  s.name = "prov provider list";
  s.description = "The workspace's providers: name, kind, path, available, config, message.";
  s.extra_description =
      "Kinds: builtin (`local`: servers are supervised processes on this machine), nu (a module at "
      "providers/<name>/nulib/provider.nu) and extension (a valid, compatible extension of type provider). "
      "Availability asks each module's test-connectivity and is cached for providers.cache_ttl (default 60s); "
      "`prov cache clear` forgets it. Secrets in config are redacted unless --show-secrets.";
  s.search_terms = {"backends", "clouds", "available"};
  s.named = workspace_flags();
  s.named.push_back({"show-secrets", std::nullopt, std::nullopt, "Show the values of secret keys in config", false});
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {
      {"prov provider list | select name kind available default",
       "Every provider of the workspace and whether it answers",
       table({"name", "kind", "available", "default"},
             {{Value::string("local"), Value::string("builtin"), Value::boolean(true), Value::boolean(true)},
              {Value::string("folder"), Value::string("nu"), Value::boolean(true), Value::boolean(false)}})},
      {"prov provider list | where available | get name", "The names of the providers that can be used now",
       strings({"local", "folder"})},
  };
  return s;
}

PipelineOutput ProviderListCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  ProviderSession session = open_provider_session(engine, call);
  const bool show = call.has_flag("show-secrets");
  const auto patterns = prov::secret_patterns(session.config.merged);
  std::vector<Value> rows;
  for (const auto& info : session.catalog.all()) {
    prov::ProviderContext ctx = session.context;
    ctx.config = info.config;
    prov::Connectivity c =
        prov::provider_availability(info, ctx, session.supervisor_exe, plugin_cache(), session.config.merged);
    Datum config = show ? info.config : prov::redact(info.config, patterns, {"providers", info.name});
    Span h = call.head;
    rows.push_back(Value::record({{"name", Value::string(info.name, h)},
                                  {"kind", Value::string(info.kind, h)},
                                  // Built in: no file; null, not "", like every absent value.
                                  {"path", info.path.empty() ? Value::nothing(h) : Value::string(info.path, h)},
                                  {"available", Value::boolean(c.ok, h)},
                                  {"default", Value::boolean(info.name == session.catalog.default_name(), h)},
                                  {"config", to_value(config.is_null() ? Datum(DatumRecord{}) : config, h)},
                                  {"message", Value::string(c.message, h)}},
                                 h));
  }
  return PipelineOutput::of(Value::list(std::move(rows), call.head));
}

}  // namespace prov::plugin
