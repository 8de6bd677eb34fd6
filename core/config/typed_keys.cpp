#include "core/config/typed_keys.hpp"

#include "core/support/duration.hpp"

namespace prov {

const std::vector<KeyPath>& duration_keys() {
  static const std::vector<KeyPath> keys = {
      {"workflow", "timeout"},
      {"workflow", "retry", "backoff"},
      {"workflow", "retry", "max_backoff"},
      {"providers", "cache_ttl"},
      {"providers", "*", "timeout"},
      {"providers", "local", "ready_timeout"},
      {"providers", "local", "kill_grace"},
      {"state", "etcd", "lease_ttl"},
      {"state", "etcd", "request_timeout"},
  };
  return keys;
}

namespace {

/// Seconds for a provider's timeout written as a number (the seed's `timeout = 300`).
bool seconds_allowed(const KeyPath& path) { return path.size() == 3 && path[0] == "providers" && path[2] == "timeout"; }

void type_value(Datum& value, const KeyPath& path, std::vector<InterpolationFailure>& failures) {
  if (value.is_null() || std::holds_alternative<Duration>(value.v)) return;
  if (seconds_allowed(path)) {
    if (const auto* secs = std::get_if<int64_t>(&value.v)) {
      value = Duration{*secs * 1'000'000'000};
      return;
    }
    if (const auto* secs = std::get_if<double>(&value.v)) {
      value = Duration{static_cast<int64_t>(*secs * 1e9)};
      return;
    }
  }
  std::string why;
  if (std::optional<Duration> d = to_duration(value, why)) {
    value = *d;
    return;
  }
  failures.push_back(
      {path, ConfigError("provisioning::config::bad_duration",
                         render_key(path) + " is not a length of time (" + to_display(value) + "): " + why,
                         std::string("write a duration such as \"30s\"; ") + kDurationForms)});
  value = Datum();
}

/// Walks `pattern` from `at`, typing every value it reaches.
void walk(Datum& at, const KeyPath& pattern, KeyPath& path, std::vector<InterpolationFailure>& failures) {
  if (path.size() == pattern.size()) {
    type_value(at, path, failures);
    return;
  }
  if (!at.is_record()) return;
  const std::string& member = pattern[path.size()];
  for (auto& [key, child] : at.record()) {
    if (member != "*" && key != member) continue;
    path.push_back(key);
    walk(child, pattern, path, failures);
    path.pop_back();
  }
}

}  // namespace

void type_known_keys(Datum& config, std::vector<InterpolationFailure>& failures) {
  KeyPath path;
  for (const KeyPath& pattern : duration_keys()) walk(config, pattern, path, failures);
}

}  // namespace prov
