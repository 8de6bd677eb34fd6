#include "plugin/commands/cache.hpp"

#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/provider_session.hpp"

namespace prov::plugin {

Signature CacheStatsCommand::signature() const {
  Signature s;
  s.name = "prov cache stats";
  s.description = "What the cache holds and did: entries, live, hits, misses, expired, stores, default_ttl.";
  s.extra_description = "The cache lives in the plugin process: it starts empty when Nushell starts the plugin.";
  s.search_terms = {"ttl", "hits", "misses"};
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov provider list | ignore; prov cache stats | select entries hits misses",
                 "After one provider list: the folder provider's availability is cached",
                 Value::record(
                     {{"entries", Value::integer(1)}, {"hits", Value::integer(0)}, {"misses", Value::integer(1)}})}};
  return s;
}

PipelineOutput CacheStatsCommand::run(EngineInterface&, const EvaluatedCall& call, PipelineInput&) const {
  return PipelineOutput::of(to_value(plugin_cache().stats().to_datum(), call.head));
}

Signature CacheClearCommand::signature() const {
  Signature s;
  s.name = "prov cache clear";
  s.description = "Forget everything cached and reset the counters; returns how many entries were dropped.";
  s.search_terms = {"flush", "reset", "invalidate"};
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov provider list | ignore; prov cache clear", "Ask every provider again next time",
                 Value::record({{"cleared", Value::integer(1)}})}};
  return s;
}

PipelineOutput CacheClearCommand::run(EngineInterface&, const EvaluatedCall& call, PipelineInput&) const {
  const size_t n = plugin_cache().clear();
  return PipelineOutput::of(
      Value::record({{"cleared", Value::integer(static_cast<int64_t>(n), call.head)}}, call.head));
}

}  // namespace prov::plugin
