#include "core/providers/provider.hpp"

#include <algorithm>

#include "core/support/duration.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace {

ProviderError spec_error(const std::string& where, const std::string& field, const std::string& problem) {
  return ProviderError("provisioning::provider::invalid_spec", where + ": `" + field + "` " + problem,
                       "a server spec is a record: {name: string, plan: string, labels: record, command: "
                       "list<string>, env: record, cwd: string, ports: list<int>, restart: \"on-failure\"}");
}

ProviderError response_error(const std::string& provider, const std::string& field, const std::string& problem) {
  return ProviderError("provisioning::provider::bad_response",
                       "provider `" + provider + "` returned a server whose `" + field + "` " + problem,
                       "a server record has id (string), name (string), state (string), created (date) and "
                       "fields of the provider's own");
}

ProviderError unsupported(const std::string& provider, const std::string& what) {
  return ProviderError("provisioning::provider::unsupported",
                       "provider `" + provider + "` cannot " + what + " a server: its servers have no process of ours",
                       "the `local` provider's servers can be stopped, started, restarted and their logs read");
}

/// A scalar as the text an environment variable holds; nullopt for anything else.
std::optional<std::string> env_text(const Datum& v) {
  if (v.is_string()) return v.str();
  if (std::holds_alternative<int64_t>(v.v) || std::holds_alternative<double>(v.v) ||
      std::holds_alternative<bool>(v.v))
    return to_display(v);
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& common_spec_fields() {
  static const std::vector<std::string> fields{"name", "plan", "labels"};
  return fields;
}

bool RestartPolicy::wants_restart(int64_t exit_code, int64_t restarts) const {
  if (restarts >= max) return false;
  if (policy == "always") return true;
  return policy == "on-failure" && exit_code != 0;
}

Duration RestartPolicy::delay(int64_t n) const {
  constexpr int64_t kMaxDelay = 60'000'000'000;
  int64_t d = std::max<int64_t>(backoff.nanos, 0);
  for (int64_t i = 1; i < n && d < kMaxDelay; ++i) d *= 2;
  return Duration{std::min(d, kMaxDelay)};
}

RestartPolicy RestartPolicy::from_datum(const Datum& d, const std::string& where) {
  static const std::vector<std::string> policies{"no", "on-failure", "always"};
  RestartPolicy r;
  auto policy = [&](const Datum& v, const std::string& field) {
    if (!v.is_string() || std::find(policies.begin(), policies.end(), v.str()) == policies.end())
      throw spec_error(where, field, "must be \"no\", \"on-failure\" or \"always\", not " + to_display(v));
    r.policy = v.str();
  };
  if (d.is_string()) {
    policy(d, "restart");
    return r;
  }
  if (!d.is_record())
    throw spec_error(where, "restart",
                     "must be \"on-failure\" or a record {policy, max, backoff}, not " + d.a_type_name());
  for (const auto& [key, v] : d.record()) {
    if (key == "policy") {
      policy(v, "restart.policy");
    } else if (key == "max") {
      const auto* n = std::get_if<int64_t>(&v.v);
      if (!n || *n < 0) throw spec_error(where, "restart.max", "must be an int of 0 or more, not " + to_display(v));
      r.max = *n;
    } else if (key == "backoff") {
      std::string why;
      auto b = to_duration(v, why);
      if (!b || b->nanos < 0)
        throw spec_error(where, "restart.backoff", "must be a duration such as \"1s\": " + (b ? "negative" : why));
      r.backoff = *b;
    } else {
      const auto near = nearest_names(key, {"policy", "max", "backoff"});
      throw ProviderError("provisioning::provider::invalid_spec",
                          where + ": `restart` has no field `" + key + "`" +
                              (near.empty() ? std::string() : "; did you mean `" + near[0] + "`?"),
                          "restart is \"on-failure\" or {policy: \"on-failure\", max: 5, backoff: \"1s\"}");
    }
  }
  return r;
}

Datum RestartPolicy::to_datum() const {
  return Datum(DatumRecord{{"policy", Datum(policy)}, {"max", Datum(max)}, {"backoff", Datum(backoff)}});
}

std::vector<std::string> ServerSpec::other_fields() const {
  std::vector<std::string> out;
  if (!command.empty()) out.emplace_back("command");
  if (!env.empty()) out.emplace_back("env");
  if (!cwd.empty()) out.emplace_back("cwd");
  if (!ports.empty()) out.emplace_back("ports");
  if (restart) out.emplace_back("restart");
  for (const auto& [k, v] : extra) out.push_back(k);
  return out;
}

Server Provider::stop(const std::string&) { throw unsupported(name(), "stop"); }
Server Provider::start(const std::string&) { throw unsupported(name(), "start"); }
Server Provider::restart(const std::string&) { throw unsupported(name(), "restart"); }
Provider::LogFiles Provider::logs(const std::string&) { throw unsupported(name(), "logs"); }
Server Provider::set_labels(const std::string&, const Datum&) { throw unsupported(name(), "set_labels"); }

ServerSpec ServerSpec::from_datum(const Datum& d, const std::string& where) {
  if (!d.is_record())
    throw ProviderError("provisioning::provider::invalid_spec",
                        where + " must be a record, not " + d.type_name(),
                        "give a record such as {name: web, command: [python3 -m http.server 8080]}");
  ServerSpec s;
  bool has_name = false;
  for (const auto& [key, v] : d.record()) {
    if (key == "name") {
      if (!v.is_string() || v.str().empty()) throw spec_error(where, key, "must be a non-empty string, not " +
                                                                            (v.is_string() ? std::string("empty") : v.type_name()));
      s.name = v.str();
      has_name = true;
    } else if (key == "plan") {
      if (v.is_null()) continue;
      if (!v.is_string()) throw spec_error(where, key, "must be a string, not " + v.type_name());
      s.plan = v.str();
    } else if (key == "labels") {
      if (v.is_null()) continue;
      if (!v.is_record()) throw spec_error(where, key, "must be a record, not " + v.type_name());
      s.labels = v.record();
    } else if (key == "command") {
      if (v.is_null()) continue;
      if (!v.is_list()) throw spec_error(where, key, "must be a list of strings, not " + v.type_name());
      for (size_t i = 0; i < v.list().size(); ++i) {
        // Numbers and bools count as their text, as in a command operation's `run`:
        // [sleep 600] in Nu holds an int.
        auto text = env_text(v.list()[i]);
        if (!text)
          throw spec_error(where, key,
                           "must be a list of strings; item " + std::to_string(i) + " is " + v.list()[i].type_name());
        s.command.push_back(*text);
      }
    } else if (key == "env") {
      if (v.is_null()) continue;
      if (!v.is_record()) throw spec_error(where, key, "must be a record, not " + v.type_name());
      for (const auto& [name, value] : v.record()) {
        auto text = env_text(value);
        if (!text) throw spec_error(where, key + "." + name, "must be a string, not " + value.type_name());
        if (name.empty() || name.find('=') != std::string::npos)
          throw spec_error(where, key, "has a variable name that is empty or holds '=': '" + name + "'");
        s.env[name] = *text;
      }
    } else if (key == "cwd") {
      if (v.is_null()) continue;
      if (!v.is_string()) throw spec_error(where, key, "must be a string, not " + v.type_name());
      s.cwd = v.str();
    } else if (key == "restart") {
      if (v.is_null()) continue;
      s.restart = RestartPolicy::from_datum(v, where);
    } else if (key == "ports") {
      if (v.is_null()) continue;
      if (!v.is_list()) throw spec_error(where, key, "must be a list of ints, not " + v.type_name());
      for (const Datum& p : v.list()) {
        if (!std::holds_alternative<int64_t>(p.v))
          throw spec_error(where, key, "must be a list of ints; " + to_display(p) + " is " + p.a_type_name());
        const int64_t port = std::get<int64_t>(p.v);
        if (port < 1 || port > 65535)
          throw spec_error(where, key, "holds " + std::to_string(port) + ", outside 1..65535");
        s.ports.push_back(port);
      }
    } else {
      s.extra.emplace_back(key, v);
    }
  }
  if (!has_name) throw spec_error(where, "name", "is required");
  return s;
}

Datum ServerSpec::to_datum() const {
  DatumRecord r;
  r.emplace_back("name", Datum(name));
  r.emplace_back("plan", plan.empty() ? Datum() : Datum(plan));
  r.emplace_back("labels", Datum(labels));
  if (!command.empty()) {
    DatumList l;
    for (const auto& a : command) l.emplace_back(a);
    r.emplace_back("command", Datum(std::move(l)));
  }
  if (!env.empty()) {
    DatumRecord e;
    for (const auto& [k, v] : env) e.emplace_back(k, Datum(v));
    r.emplace_back("env", Datum(std::move(e)));
  }
  if (!cwd.empty()) r.emplace_back("cwd", Datum(cwd));
  if (!ports.empty()) {
    DatumList l;
    for (int64_t p : ports) l.emplace_back(p);
    r.emplace_back("ports", Datum(std::move(l)));
  }
  if (restart) r.emplace_back("restart", restart->to_datum());
  for (const auto& kv : extra) r.push_back(kv);
  return Datum(std::move(r));
}

Server Server::from_datum(const Datum& d, const std::string& provider) {
  if (!d.is_record())
    throw ProviderError("provisioning::provider::bad_response",
                        "provider `" + provider + "` returned a " + d.type_name() + " where a server record was expected",
                        "a provider's server functions return a record with at least `id`");
  Server s;
  s.provider = provider;
  bool has_id = false;
  for (const auto& [key, v] : d.record()) {
    if (key == "id") {
      if (std::holds_alternative<int64_t>(v.v)) s.id = to_display(v);
      else if (v.is_string() && !v.str().empty()) s.id = v.str();
      else throw response_error(provider, key, "is " + (v.is_string() ? std::string("empty") : v.a_type_name()) +
                                                   ", not a string");
      has_id = true;
    } else if (key == "name") {
      if (v.is_null()) continue;
      if (!v.is_string()) throw response_error(provider, key, "is " + v.a_type_name() + ", not a string");
      s.name = v.str();
    } else if (key == "provider") {
      if (v.is_null()) continue;
      if (!v.is_string()) throw response_error(provider, key, "is " + v.a_type_name() + ", not a string");
      s.provider = v.str();
    } else if (key == "state") {
      if (v.is_null()) continue;
      if (!v.is_string()) throw response_error(provider, key, "is " + v.a_type_name() + ", not a string");
      s.state = v.str();
    } else if (key == "created") {
      if (v.is_null()) continue;
      // A date, or its RFC 3339 text when it came through JSON.
      if (std::holds_alternative<DateTime>(v.v)) s.created = std::get<DateTime>(v.v);
      else if (v.is_string()) s.created = DateTime{v.str()};
      else throw response_error(provider, key, "is " + v.a_type_name() + ", not a date");
    } else {
      s.fields.emplace_back(key, v);
    }
  }
  if (!has_id) throw response_error(provider, "id", "is missing");
  // Every server record has plan and labels, whether the provider wrote them or not.
  auto has = [&](const char* key) {
    return std::any_of(s.fields.begin(), s.fields.end(), [&](const auto& kv) { return kv.first == key; });
  };
  if (!has("labels")) s.fields.insert(s.fields.begin(), {"labels", Datum(DatumRecord{})});
  if (!has("plan")) s.fields.insert(s.fields.begin(), {"plan", Datum()});
  return s;
}

Datum Server::to_datum() const {
  DatumRecord r;
  r.emplace_back("id", Datum(id));
  r.emplace_back("name", Datum(name));
  r.emplace_back("provider", Datum(provider));
  r.emplace_back("state", Datum(state));
  r.emplace_back("created", created.rfc3339.empty() ? Datum() : Datum(created));
  for (const auto& kv : fields) r.push_back(kv);
  return Datum(std::move(r));
}

}  // namespace prov
