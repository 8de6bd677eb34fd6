#include "core/config/interpolate.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config/key_path.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"
#include "core/support/placeholders.hpp"

namespace prov {

namespace {

constexpr const char* kKnownPlaceholders =
    "placeholders are {{paths.NAME}}, {{config.KEY}}, {{env.NAME}}, {{now.date}}, "
    "{{now.datetime}} and {{git.branch}}, each with an optional fallback ({{git.branch ?? \"main\"}}); "
    "write \\{{ for a literal {{";

/// A source that has no value (an unset variable, no git branch, a missing or failed key): a
/// fallback after `??` takes over.
class Unavailable : public ConfigError {
  using ConfigError::ConfigError;
};

/// `text` split on `??` outside quotes, each part trimmed.
std::vector<std::string> alternatives(std::string_view text);

/// A piece of a string: literal text, or the inside of a {{…}} placeholder, trimmed.
using Segment = TextPiece;

std::string trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string format_utc(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

/// Resolves placeholders in a copy of the configuration, key by key, on demand: a reference
/// resolves its target first, so each key is interpolated once whatever order they come in.
class Interpolator {
 public:
  Interpolator(const Datum& config, const InterpolationContext& context)
      : out_(config), context_(context) {}

  Interpolated run() {
    resolve({});
    return {std::move(out_), std::move(failures_)};
  }

 private:
  Datum out_;  ///< the configuration; values under resolved_ paths are final
  const InterpolationContext& context_;
  /// Nodes whose values (and everything below) are final. Nodes never move: only strings are
  /// replaced, in place, and records and lists keep their members.
  std::unordered_set<const Datum*> resolved_;
  /// Member -> index of the large records looked into, so that finding a key is not a scan.
  std::unordered_map<const DatumRecord*, std::unordered_map<std::string, size_t>> index_;
  std::vector<KeyPath> in_progress_;  ///< the chain of paths being resolved, outermost first
  std::optional<std::string> git_branch_;
  std::optional<ConfigError> git_error_;        ///< why git_branch failed, once asked
  std::vector<InterpolationFailure> failures_;  ///< in the order met
  std::map<KeyPath, size_t> failed_;            ///< key -> its index in failures_

  /// The failure of `key`, of a key above it or of one below it; nullptr when none.
  const InterpolationFailure* failure_within(const KeyPath& key) const {
    if (failed_.empty()) return nullptr;
    for (size_t n = 0; n <= key.size(); ++n) {
      auto it = failed_.find(KeyPath(key.begin(), key.begin() + static_cast<ptrdiff_t>(n)));
      if (it != failed_.end()) return &failures_[it->second];
    }
    auto below = failed_.lower_bound(key);
    if (below != failed_.end() && below->first.size() > key.size() &&
        std::equal(key.begin(), key.end(), below->first.begin()))
      return &failures_[below->second];
    return nullptr;
  }

  /// The cause at the root of a failure: a failure caused by another names that one's cause.
  std::vector<std::string> root_causes_;  ///< beside failures_

  /// The member `key` of a record or list node, or nullptr.
  Datum* child(Datum* node, const std::string& key) {
    if (node->is_record()) {
      DatumRecord& record = node->record();
      if (record.size() <= 16) {
        for (auto& [k, v] : record)
          if (k == key) return &v;
        return nullptr;
      }
      auto [it, fresh] = index_.try_emplace(&record);
      if (fresh) {
        it->second.reserve(record.size());
        for (size_t i = 0; i < record.size(); ++i) it->second.emplace(record[i].first, i);
      }
      auto found = it->second.find(key);
      return found == it->second.end() ? nullptr : &record[found->second].second;
    }
    if (node->is_list()) {
      PathLookup found = lookup_path(*node, {key});
      return found.found({key}) ? const_cast<Datum*>(found.value) : nullptr;
    }
    return nullptr;
  }

  bool is_resolved(const KeyPath& path) {
    Datum* node = &out_;
    for (const std::string& member : path) {
      if (resolved_.count(node)) return true;
      if (!(node = child(node, member))) return false;
    }
    return resolved_.count(node) > 0;
  }

  Datum* at(const KeyPath& path) {
    Datum* node = &out_;
    for (const std::string& member : path)
      if (!(node = child(node, member))) return nullptr;
    return node;
  }

  /// The final value at `path`, or nullptr when there is none. The pointer is valid until the
  /// next call.
  const Datum* resolve(const KeyPath& path) {
    if (is_resolved(path)) return at(path);
    if (std::find(in_progress_.begin(), in_progress_.end(), path) != in_progress_.end())
      throw cycle(path);
    if (in_progress_.size() >= kMaxChain) throw too_long(path);
    in_progress_.push_back(path);
    struct Pop {
      std::vector<KeyPath>& chain;
      ~Pop() { chain.pop_back(); }
    } pop{in_progress_};
    return resolve_unfinished(path);
  }

  /// Records that `path` cannot be resolved; its value becomes null.
  void fail(const KeyPath& path, const ConfigError& error, std::string root_cause) {
    failed_.emplace(path, failures_.size());
    failures_.push_back({path, error});
    root_causes_.push_back(std::move(root_cause));
    if (Datum* value = at(path)) *value = Datum();
  }

  const Datum* resolve_unfinished(const KeyPath& path) {
    // A string on the way may be a reference to the record the rest of the path goes into.
    Datum* value = &out_;
    for (size_t n = 0; n < path.size(); ++n) {
      if (!(value = child(value, path[n]))) return nullptr;
      if (n + 1 < path.size() && value->is_string()) {
        const KeyPath prefix(path.begin(), path.begin() + static_cast<ptrdiff_t>(n) + 1);
        if (!is_resolved(prefix)) resolve(prefix);
        if (!(value = at(prefix))) return nullptr;
      }
    }
    if (value->is_string()) {
      const std::string text = value->str();  // resolving others may move things around
      try {
        Datum replaced = interpolate_string(path, text);
        *at(path) = std::move(replaced);
      } catch (const NeedsFailed& e) {
        fail(path, e.error, e.root_cause);
      } catch (const ConfigError& e) {
        fail(path, e, e.what());
      }
    } else if (value->is_record() || value->is_list()) {
      // The node stays where it is and keeps its members while they are resolved.
      Datum* node = value;
      const bool record = node->is_record();
      const size_t count = record ? node->record().size() : node->list().size();
      KeyPath child = path;
      for (size_t i = 0; i < count; ++i) {
        const Datum& member = record ? node->record()[i].second : node->list()[i];
        if (!member.is_record() && !member.is_list() &&
            (!member.is_string() || member.str().find("{{") == std::string::npos))
          continue;  // nothing to resolve in it
        child.push_back(record ? node->record()[i].first : std::to_string(i));
        resolve(child);
        child.pop_back();
      }
    }
    Datum* final_value = at(path);
    if (final_value) resolved_.insert(final_value);
    return final_value;
  }

  static std::vector<Segment> split(const KeyPath& holder, const std::string& text) {
    SplitText s = split_placeholders(text);
    if (s.unterminated_at)
      throw ConfigError("provisioning::config::bad_placeholder",
                        "unterminated placeholder in " + render_key(holder) + ": \"" + text.substr(*s.unterminated_at) +
                            "\" has no closing }}",
                        std::string("close it with }}, or write \\{{ for a literal {{"));
    if (s.empty_placeholder)
      throw ConfigError("provisioning::config::bad_placeholder", "empty placeholder {{}} in " + render_key(holder),
                        kKnownPlaceholders);
    return std::move(s.pieces);
  }

  Datum interpolate_string(const KeyPath& holder, const std::string& text) {
    std::vector<Segment> segments = split(holder, text);
    if (segments.size() == 1 && segments[0].placeholder) return evaluate(holder, segments[0].text);
    std::string out;
    for (const Segment& segment : segments) {
      if (!segment.placeholder) {
        out += segment.text;
        continue;
      }
      Datum value = evaluate(holder, segment.text);
      if (value.is_record() || value.is_list())
        throw ConfigError("provisioning::config::bad_placeholder",
                          "{{" + segment.text + "}} in " + render_key(holder) + " is a " +
                              value.type_name() + " and cannot be part of a longer string",
                          "make {{" + segment.text +
                              "}} the whole value to use the " + value.type_name() +
                              " itself, or reference one of its members");
      out += to_display(value);
    }
    return out;
  }

  /// A placeholder that needs a key that failed: the holder fails for that key's cause.
  struct NeedsFailed {
    ConfigError error;
    std::string root_cause;
  };

  /// The value of a placeholder: its alternatives in turn, the first with a value.
  Datum evaluate(const KeyPath& holder, const std::string& placeholder) {
    if (placeholder.find("??") == std::string::npos) return evaluate_one(holder, placeholder);
    const std::vector<std::string> parts = alternatives(placeholder);
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      const bool last = i + 1 == parts.size();
      if (part.empty())
        throw ConfigError("provisioning::config::bad_placeholder",
                          "empty alternative in {{" + placeholder + "}} in " + render_key(holder),
                          "write a placeholder or a quoted string on each side of ??: {{git.branch ?? \"main\"}}");
      if (part.front() == '"' || part.front() == '\'') {
        if (std::optional<std::string> text = quoted(part)) return *text;
        throw ConfigError("provisioning::config::bad_placeholder",
                          "malformed string " + part + " in {{" + placeholder + "}} in " + render_key(holder),
                          "a fallback string is \"text\" (with \\\" and \\\\ escapes) or 'text'");
      }
      if (last) return evaluate_one(holder, part);
      try {
        Datum value = evaluate_one(holder, part);
        if (!(value.is_string() && value.str().empty())) return value;
      } catch (const Unavailable&) {
      } catch (const NeedsFailed&) {
      }
    }
    return Datum();  // not reached: the last alternative returns or throws
  }

  /// A quoted fallback's text: "…" with \" and \\ escapes, or '…' as it is.
  static std::optional<std::string> quoted(const std::string& part) {
    if (part.size() < 2 || part.back() != part.front()) return std::nullopt;
    if (part.front() == '\'') {
      std::string inner = part.substr(1, part.size() - 2);
      if (inner.find('\'') != std::string::npos) return std::nullopt;
      return inner;
    }
    std::string out;
    for (size_t i = 1; i + 1 < part.size(); ++i) {
      if (part[i] == '"') return std::nullopt;
      if (part[i] == '\\') {
        if (i + 2 >= part.size() || (part[i + 1] != '"' && part[i + 1] != '\\')) return std::nullopt;
        ++i;
      }
      out += part[i];
    }
    return out;
  }

  Datum evaluate_one(const KeyPath& holder, const std::string& placeholder) {
    const size_t dot = placeholder.find('.');
    const std::string ns = placeholder.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : placeholder.substr(dot + 1);
    if (ns == "config" || ns == "paths") {
      std::optional<KeyPath> key = parse_key(rest);
      if (!key) {
        if (rest.empty()) throw unknown(holder, placeholder, "it names no key", kKnownPlaceholders);
        throw ConfigError("provisioning::config::bad_placeholder",
                          "malformed key in placeholder {{" + placeholder + "}} in " +
                              render_key(holder),
                          "write keys as a.b.c, quoting members that hold dots: a.\"b.c\"");
      }
      if (ns == "paths") key->insert(key->begin(), "paths");
      const Datum* value = resolve(*key);
      if (const InterpolationFailure* failed = failure_within(*key)) {
        const std::string& cause = root_causes_[static_cast<size_t>(failed - failures_.data())];
        throw NeedsFailed{ConfigError(failed->error.code(),
                                      "{{" + placeholder + "}} in " + render_key(holder) + " needs " +
                                          render_key(failed->key) + ", which cannot be resolved: " + cause,
                                      failed->error.help()),
                          cause};
      }
      if (value) return *value;
      std::vector<std::string> near = nearest_keys(out_, *key);
      throw unknown<Unavailable>(
          holder, placeholder, "there is no configuration key " + render_key(*key),
          near.empty() ? "no configuration key is near that name" : "did you mean " + join_alternatives(near) + "?");
    }
    if (ns == "env") {
      auto it = context_.env.find(rest);
      if (!rest.empty() && it != context_.env.end()) return it->second;
      if (!rest.empty() && context_.env_lookup)
        if (const std::string* v = context_.env_lookup(rest)) return *v;
      std::vector<std::string> names;
      if (context_.env_names) names = context_.env_names();
      else
        for (const auto& [name, value] : context_.env) names.push_back(name);
      std::vector<std::string> near = nearest_names(rest, names);
      throw unknown<Unavailable>(
          holder, placeholder, "the environment variable " + rest + " is not set",
          near.empty() ? "set $env." + rest + " in Nushell" : "did you mean " + join_alternatives(near) + "?");
    }
    if (ns == "now") {
      if (rest == "date") return format_utc(context_.now, "%Y-%m-%d");
      if (rest == "datetime") return format_utc(context_.now, "%Y-%m-%dT%H:%M:%S+00:00");
      throw unknown(holder, placeholder, "now has date and datetime",
                    "use {{now.date}} or {{now.datetime}}");
    }
    if (ns == "git") {
      if (rest != "branch")
        throw unknown(holder, placeholder, "git has only branch", "use {{git.branch}}");
      if (!context_.git_branch)
        throw unknown<Unavailable>(holder, placeholder, "no git repository is available here", "");
      if (!git_branch_ && !git_error_) {
        try {
          git_branch_ = context_.git_branch();
        } catch (const ConfigError& e) {
          git_error_ = e;
        }
      }
      if (git_error_)
        throw Unavailable(
            git_error_->code(), "{{" + placeholder + "}} in " + render_key(holder) + ": " + git_error_->what(),
            git_error_->help().empty() ? "give a fallback: {{git.branch ?? \"main\"}}"
                                       : git_error_->help() + "; or give a fallback: {{git.branch ?? \"main\"}}");
      return *git_branch_;
    }
    std::vector<std::string> near =
        nearest_names(ns, {"paths", "config", "env", "now", "git"}, 1);
    throw unknown(holder, placeholder, "no placeholder namespace is called '" + ns + "'",
                  near.empty() ? std::string(kKnownPlaceholders)
                               : "did you mean {{" + near[0] + (rest.empty() ? "" : "." + rest) +
                                     "}}? " + kKnownPlaceholders);
  }

  template <class E = ConfigError>
  static E unknown(const KeyPath& holder, const std::string& placeholder, const std::string& why,
                   const std::string& help) {
    return E("provisioning::config::unknown_placeholder",
             "unknown placeholder {{" + placeholder + "}} in " + render_key(holder) + ": " + why, help);
  }

  /// Resolution recurses once per key on the way (nesting plus references): a chain of
  /// thousands of references must not exhaust the stack.
  static constexpr size_t kMaxChain = 256;  // each step is a few frames: far below any stack, sanitizers included

  ConfigError too_long(const KeyPath& next) const {
    return ConfigError("provisioning::config::interpolation_depth",
                       "placeholders refer through more than " + std::to_string(kMaxChain) +
                           " keys, from " + render_key(in_progress_[1]) + " to " + render_key(next),
                       "make these keys hold values instead of references to references");
  }

  ConfigError cycle(const KeyPath& repeated) const {
    auto first = std::find(in_progress_.begin(), in_progress_.end(), repeated);
    std::string chain;
    for (auto it = first; it != in_progress_.end(); ++it) chain += render_key(*it) + " -> ";
    chain += render_key(repeated);
    return ConfigError("provisioning::config::interpolation_cycle",
                       "placeholders form a cycle: " + chain,
                       "make one of these keys hold a value instead of a reference");
  }
};

std::vector<std::string> alternatives(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"' || text[i] == '\'') {
      const char quote = text[i];
      for (++i; i < text.size() && text[i] != quote; ++i)
        if (quote == '"' && text[i] == '\\') ++i;
    } else if (text.compare(i, 2, "??") == 0) {
      parts.push_back(trim(text.substr(start, i - start)));
      start = i + 2;
      ++i;
    }
  }
  parts.push_back(trim(text.substr(std::min(start, text.size()))));
  return parts;
}

}  // namespace

Interpolated interpolate_each(const Datum& config, const InterpolationContext& context) {
  return Interpolator(config, context).run();
}

Datum interpolate(const Datum& config, const InterpolationContext& context) {
  Interpolated out = interpolate_each(config, context);
  if (!out.failures.empty()) throw out.failures.front().error;
  return std::move(out.value);
}

std::string escape_placeholders(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "{{") == 0) {
      out += "\\{{";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace prov
