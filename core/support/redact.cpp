#include "core/support/redact.hpp"

#include <algorithm>
#include <cctype>

namespace prov {

std::vector<std::string> secret_patterns(const Datum& config) {
  if (const Datum* secrets = config.find("secrets"))
    if (const Datum* p = secrets->find("patterns"); p && p->is_list()) {
      std::vector<std::string> out;
      for (const auto& e : p->list())
        if (e.is_string() && !e.str().empty()) out.push_back(e.str());
      return out;
    }
  return {"password", "secret", "token", "key"};
}

bool is_secret_key(std::string_view key, const std::vector<std::string>& patterns) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& p : patterns) {
    std::string lp(p);
    std::transform(lp.begin(), lp.end(), lp.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!lp.empty() && lower.find(lp) != std::string::npos) return true;
  }
  return false;
}

namespace {

bool is_pattern_list(const std::vector<std::string>& path) {
  return path.size() >= 2 && path[0] == "secrets" && path[1] == "patterns";
}

/// Whether the value at exactly `path` is secret. The top-level `secrets` table holds secrets
/// (all of it but its `patterns`) without being one itself.
bool is_secret_path(const std::vector<std::string>& path, const std::vector<std::string>& patterns) {
  if (path.empty() || is_pattern_list(path)) return false;
  if (path[0] == "secrets") return path.size() == 2;
  return is_secret_key(path.back(), patterns);
}

Datum redact_below(const Datum& value, const std::vector<std::string>& patterns, std::vector<std::string>& path) {
  if (is_pattern_list(path)) return value;
  if (is_secret_path(path, patterns)) return Datum(kRedacted);
  if (value.is_record()) {
    DatumRecord out;
    out.reserve(value.record().size());
    for (const auto& [k, v] : value.record()) {
      path.push_back(k);
      out.emplace_back(k, redact_below(v, patterns, path));
      path.pop_back();
    }
    return Datum(std::move(out));
  }
  if (value.is_list()) {
    DatumList out;
    out.reserve(value.list().size());
    for (const auto& v : value.list()) out.push_back(redact_below(v, patterns, path));
    return Datum(std::move(out));
  }
  return value;
}

}  // namespace

Datum redact(const Datum& value, const std::vector<std::string>& patterns, const std::vector<std::string>& path) {
  // A secret anywhere along the path hides everything below it.
  std::vector<std::string> prefix;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    prefix.push_back(path[i]);
    if (is_pattern_list(prefix)) return value;
    if (is_secret_path(prefix, patterns)) return Datum(kRedacted);
  }
  std::vector<std::string> p = path;
  return redact_below(value, patterns, p);
}

}  // namespace prov
