#include "plugin/commands/config.hpp"

#include <memory>

#include "core/config/key_path.hpp"
#include "core/support/redact.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

std::vector<Flag> config_flags() {
  std::vector<Flag> f = workspace_flags();
  f.push_back({"show-secrets", std::nullopt, std::nullopt,
               "Show values of secret keys (a segment of their name in secrets.patterns: password, secret, token, key, apikey, passwd)", false});
  return f;
}

/// `value` at `path` as the user may see it: secrets redacted unless --show-secrets.
Datum visible(const prov::Config& cfg, const EvaluatedCall& call, const Datum& value,
              const std::vector<std::string>& path = {}) {
  if (call.has_flag("show-secrets")) return value;
  cfg.require({"secrets", "patterns"});
  return prov::redact(value, prov::secret_patterns(cfg.merged), path);
}

}  // namespace

Signature ConfigCommand::signature() const {
  Signature s;
  s.name = "prov config";
  s.description = "The workspace's configuration: every layer merged and interpolated.";
  s.extra_description =
      "Layers, lowest first: built-in defaults, config.defaults.toml, ~/.config/provisioning/config.toml, "
      "config.user.toml, config.<env>.toml, $env.config.plugins.provisioning, then the record piped in. "
      "Tables merge deeply; everything else is replaced. Placeholders such as {{paths.base}}, "
      "{{env.HOME}}, {{now.date}}, {{git.branch}} and {{config.a.b}} are resolved on the parsed values; a "
      "fallback follows ??: {{git.branch ?? \"main\"}}, {{env.A ?? env.B ?? 'x'}} (the first alternative with a "
      "value is taken). A key whose placeholder has no value fails only where it is read, naming the key and its file. "
      "Keys that hold lengths of time (workflow.timeout, workflow.retry.backoff and max_backoff, providers.cache_ttl, "
      "providers.<name>.timeout, providers.local.ready_timeout and kill_grace) come out as durations, TOML dates "
      "as dates.";
  s.search_terms = {"settings", "configuration", "toml", "layers"};
  s.named = config_flags();
  s.input_output_types = {{type::nothing(), type::record()}, {type::record(), type::record()}};
  s.examples = {
      {"prov config | get project.owner", "config.user.toml overrides config.defaults.toml", Value::string("ada")},
      {"prov config --env dev | get workflow.parallel", "Configuration with config.dev.toml layered on",
       Value::integer(2)},
      {"{workflow: {parallel: 1}} | prov config | get workflow.parallel", "Override a key for this call only",
       Value::integer(1)},
      {"{deploy: {branch: '{{env.PROV_NO_SUCH_VARIABLE ?? \"main\"}}'}} | prov config | get deploy.branch",
       "A fallback for a placeholder without a value", Value::string("main")},
  };
  return s;
}

PipelineOutput ConfigCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  prov::Config cfg = load_workspace_config(engine, call, &input);
  return PipelineOutput::of(to_value(visible(cfg, call, cfg.all()), call.head));
}

Signature ConfigSourcesCommand::signature() const {
  Signature s;
  s.name = "prov config sources";
  s.description = "Every configuration leaf with its value and the layer and file that set it.";
  s.search_terms = {"provenance", "origin", "layers", "where", "debug"};
  s.named = config_flags();
  s.input_output_types = {{type::nothing(), type::table()}, {type::record(), type::table()}};
  s.examples = {
      {"prov config sources | where key == project.owner | select layer value", "Where a key's value comes from",
       table({"layer", "value"}, {{Value::string("user"), Value::string("ada")}})},
      {"prov config sources --show-secrets | where key =~ token | get value", "Secret values, shown on purpose",
       strings({"dev-token-not-real"})},
      {"prov config sources | where layer == user | get key", "Keys set by config.user.toml",
       strings({"providers.folder.api_token", "project.owner"})},
  };
  return s;
}

PipelineOutput ConfigSourcesCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  auto cfg = std::make_shared<prov::Config>(load_workspace_config(engine, call, &input));
  cfg->all();  // every leaf is listed: each must resolve
  Span h = call.head;
  size_t i = 0;
  bool show = call.has_flag("show-secrets");
  auto patterns = prov::secret_patterns(cfg->merged);
  return PipelineOutput::ready_stream(
      [cfg, h, i, show, patterns]() mutable -> std::optional<Value> {
        if (i >= cfg->leaves.size()) return std::nullopt;
        const auto& leaf = cfg->leaves[i++];
        Datum value = leaf.value;
        if (!show) value = prov::redact(value, patterns, prov::parse_key(leaf.key).value_or(prov::KeyPath{leaf.key}));
        return Value::record({{"key", Value::string(leaf.key, h)},
                              {"value", to_value(value, h)},
                              {"layer", Value::string(leaf.layer, h)},
                              {"source", Value::string(leaf.source, h)}},
                             h);
      },
      h);
}

Signature ConfigGetCommand::signature() const {
  Signature s;
  s.name = "prov config get";
  s.description = "One configuration value by dotted path.";
  s.search_terms = {"setting", "lookup", "key"};
  s.required = {{"path", "The key, as a cell path: providers.local.timeout", shape::cell_path()}};
  s.named = config_flags();
  s.input_output_types = {{type::nothing(), type::any()}, {type::record(), type::any()}};
  s.examples = {
      {"prov config get providers.default", "The default provider's name", Value::string("local")},
      {"prov config get workflow.retry", "A whole table",
       Value::record({{"attempts", Value::integer(3)},
                      {"backoff", Value::duration(500'000'000)},
                      {"max_backoff", Value::duration(10'000'000'000)}})},
      {"{a: {b: 5}} | prov config get a.b", "A key from the record piped in", Value::integer(5)},
      {"prov config get workflow.nope? | default 1", "A member marked optional with `?` that is not there gives "
       "nothing, as `get` does", Value::integer(1)},
  };
  return s;
}

Suggestions ConfigGetCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_positional(info, 0)) return config_keys(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput ConfigGetCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput& input) const {
  if (call.positional.empty())
    throw labeled("Missing the key to get", "needs a path such as providers.default", call.head,
                  "provisioning::input::missing_argument");
  const Value& pathv = call.positional[0];
  std::vector<std::string> path;
  std::vector<bool> optional;  ///< by member: `?` after it, as `get` reads it
  if (pathv.is(Value::Type::CellPath)) {
    for (const auto& m : pathv.as_cell_path().members) {
      path.push_back(m.is_int ? std::to_string(m.index) : m.name);
      optional.push_back(m.optional);
    }
  } else if (pathv.is(Value::Type::String)) {
    path.push_back(pathv.as_string());
  } else {
    throw labeled("The key must be a cell path", "expected a cell path, got " + pathv.type_name(), pathv.span,
                  "provisioning::input::wrong_type");
  }
  prov::Config cfg = load_workspace_config(engine, call, &input);
  // One member with dots is a dotted path, as config_get reads it.
  prov::KeyPath where = path.size() == 1 ? prov::parse_key(path[0]).value_or(path) : path;
  try {
    return PipelineOutput::of(to_value(visible(cfg, call, prov::config_get(cfg, path), where), call.head));
  } catch (const prov::ConfigError& e) {
    // A missing member marked optional (`a.b?`) gives nothing, as `get` does; one before it
    // that is missing and not optional is still an error.
    if (e.code() == "provisioning::config::key_not_found" && optional.size() == path.size()) {
      const size_t missing = prov::lookup_path(cfg.merged, path).depth;
      if (missing < optional.size() && optional[missing]) return PipelineOutput::of(Value::nothing(call.head));
    }
    throw;
  }
}

}  // namespace prov::plugin
