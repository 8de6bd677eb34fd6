#include "core/support/redact.hpp"

#include <algorithm>
#include <cctype>

#include "core/support/error.hpp"

namespace prov {

const std::vector<std::string>& default_secret_patterns() {
  static const std::vector<std::string> patterns = {"password", "secret", "token", "key", "apikey", "passwd"};
  return patterns;
}

std::vector<std::string> secret_patterns(const Datum& config) {
  if (const Datum* secrets = config.find("secrets"))
    if (const Datum* p = secrets->find("patterns"); p && p->is_list()) {
      std::vector<std::string> out;
      for (const auto& e : p->list())
        if (e.is_string() && !e.str().empty()) out.push_back(e.str());
      return out;
    }
  return default_secret_patterns();
}

namespace {

/// The segments of a key name, lower-cased: split at `_`, `-`, `.`, spaces and where a lower-case
/// letter or digit meets an upper-case one ("secretAccessKey" → secret, access, key).
std::vector<std::string> key_segments(std::string_view key) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c == '_' || c == '-' || c == '.' || c == ' ') {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    if (std::isupper(c) && i > 0 && (std::islower(static_cast<unsigned char>(key[i - 1])) ||
                                     std::isdigit(static_cast<unsigned char>(key[i - 1]))))
      if (!out.back().empty()) out.emplace_back();
    out.back() += static_cast<char>(std::tolower(c));
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

bool is_secret_key(std::string_view key, const std::vector<std::string>& patterns) {
  const std::vector<std::string> segments = key_segments(key);
  for (const auto& p : patterns) {
    // A pattern of several segments ("access_key") matches those segments in a row.
    const std::vector<std::string> want = key_segments(p);
    if (want.empty() || want.size() > segments.size()) continue;
    for (size_t at = 0; at + want.size() <= segments.size(); ++at) {
      bool all = true;
      for (size_t k = 0; k < want.size() && all; ++k) {
        const std::string& seg = segments[at + k];
        // a plural counts: "passwords" under "password"
        all = seg == want[k] || (seg.size() == want[k].size() + 1 && seg.back() == 's' && seg.compare(0, want[k].size(), want[k]) == 0);
      }
      if (all) return true;
    }
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

/// Where a value sits for split_secrets: record members and list indexes, in order.
using Location = DatumList;

/// `value`, all secret: its tables and lists keep their shape (so that a path into them still
/// leads somewhere) and every leaf is the marker. Each replaced leaf is added to `taken`.
Datum redact_leaves(const Datum& value, DatumList* taken, Location* at) {
  if (value.is_record() && !value.record().empty()) {
    DatumRecord out;
    out.reserve(value.record().size());
    for (const auto& [k, v] : value.record()) {
      if (at) at->emplace_back(k);
      out.emplace_back(k, redact_leaves(v, taken, at));
      if (at) at->pop_back();
    }
    return Datum(std::move(out));
  }
  if (value.is_list() && !value.list().empty()) {
    DatumList out;
    out.reserve(value.list().size());
    for (size_t i = 0; i < value.list().size(); ++i) {
      if (at) at->emplace_back(static_cast<int64_t>(i));
      out.push_back(redact_leaves(value.list()[i], taken, at));
      if (at) at->pop_back();
    }
    return Datum(std::move(out));
  }
  if (taken) taken->push_back(Datum(DatumRecord{{"at", Datum(*at)}, {"value", value}}));
  return Datum(kRedacted);
}

/// redact() below `path` (record members only: what secrecy is decided by). When `taken` is
/// given, each replaced value is added to it with its `at` location.
Datum redact_below(const Datum& value, const std::vector<std::string>& patterns, std::vector<std::string>& path,
                   DatumList* taken = nullptr, Location* at = nullptr) {
  if (is_pattern_list(path)) return value;
  if (is_secret_path(path, patterns)) return redact_leaves(value, taken, at);
  if (value.is_record()) {
    DatumRecord out;
    out.reserve(value.record().size());
    for (const auto& [k, v] : value.record()) {
      path.push_back(k);
      if (at) at->emplace_back(k);
      out.emplace_back(k, redact_below(v, patterns, path, taken, at));
      if (at) at->pop_back();
      path.pop_back();
    }
    return Datum(std::move(out));
  }
  if (value.is_list()) {
    DatumList out;
    out.reserve(value.list().size());
    for (size_t i = 0; i < value.list().size(); ++i) {
      if (at) at->emplace_back(static_cast<int64_t>(i));
      out.push_back(redact_below(value.list()[i], patterns, path, taken, at));
      if (at) at->pop_back();
    }
    return Datum(std::move(out));
  }
  return value;
}

}  // namespace

Datum redact(const Datum& value, const std::vector<std::string>& patterns, const std::vector<std::string>& path) {
  // A secret anywhere along the path makes every leaf below it secret.
  std::vector<std::string> prefix;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    prefix.push_back(path[i]);
    if (is_pattern_list(prefix)) return value;
    if (is_secret_path(prefix, patterns)) return redact_leaves(value, nullptr, nullptr);
  }
  std::vector<std::string> p = path;
  return redact_below(value, patterns, p);
}

SecretSplit split_secrets(const Datum& config, const std::vector<std::string>& patterns) {
  SecretSplit split;
  DatumList taken;
  Location at;
  std::vector<std::string> path;
  split.shown = redact_below(config, patterns, path, &taken, &at);
  split.hidden = Datum(std::move(taken));
  return split;
}

namespace {
/// `a.b.0`: a location for a message.
std::string encode_location(const Datum& at) {
  std::string out;
  for (const Datum& step : at.list()) {
    if (!out.empty()) out += '.';
    if (step.is_string()) out += step.str();
    else if (const int64_t* i = std::get_if<int64_t>(&step.v)) out += std::to_string(*i);
    else out += '?';
  }
  return out;
}
}  // namespace

Datum join_secrets(Datum shown, const Datum& hidden) {
  auto bad = [](const std::string& why) {
    return ResourceError("provisioning::state::corrupt_secrets", "the configuration's secrets do not fit it: " + why,
                         "submit the workflow again");
  };
  if (!hidden.is_list()) throw bad("not a list");
  for (const Datum& entry : hidden.list()) {
    const Datum* at = entry.find("at");
    const Datum* value = entry.find("value");
    if (!at || !at->is_list() || !value) throw bad("an entry without `at` and `value`");
    Datum* place = &shown;
    for (const Datum& step : at->list()) {
      if (step.is_string() && place->is_record()) {
        place = place->find(step.str());
      } else if (const int64_t* i = std::get_if<int64_t>(&step.v); i && place->is_list() && *i >= 0 &&
                                                                     static_cast<size_t>(*i) < place->list().size()) {
        place = &place->list()[static_cast<size_t>(*i)];
      } else {
        place = nullptr;
      }
      if (!place) throw bad("no place for a value at " + encode_location(*at));
    }
    if (!place->is_string() || place->str() != kRedacted) throw bad("no marker at " + encode_location(*at));
    *place = *value;
  }
  return shown;
}

std::string redact_values(std::string text, const std::vector<std::string>& values) {
  for (const std::string& v : values) {
    if (v.size() < 4) continue;
    for (size_t at = text.find(v); at != std::string::npos;
         at = text.find(v, at + std::char_traits<char>::length(kRedacted)))
      text.replace(at, v.size(), kRedacted);
  }
  return text;
}

}  // namespace prov
