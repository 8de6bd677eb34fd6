#pragma once
/// Placeholders in configuration strings, resolved on parsed values (never on serialized text):
///
///   {{config.a.b}}  another key of the merged configuration; {{paths.X}} is {{config.paths.X}}
///   {{env.NAME}}    a variable of the caller's environment
///   {{now.date}}    today in UTC, YYYY-MM-DD;  {{now.datetime}}: RFC 3339, UTC
///   {{git.branch}}  the workspace's current git branch
///
/// A fallback follows `??`: `{{git.branch ?? "main"}}`, `{{env.A ?? env.B ?? 'x'}}`. Each
/// alternative is a placeholder or a quoted string; the first that has a value (a set, non-empty
/// variable, a git branch, an existing key) is taken.
///
/// References resolve recursively. A string that is exactly one reference takes the referenced
/// value with its type (an int stays an int, a record a record); inside longer text scalars are
/// rendered as text. `\{{` stands for a literal `{{`.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/key_path.hpp"
#include "core/support/error.hpp"

#include "core/support/datum.hpp"

namespace prov {

/// What placeholders that do not name configuration keys resolve to.
struct InterpolationContext {
  const std::map<std::string, std::string>& env;  ///< for {{env.NAME}}
  std::chrono::system_clock::time_point now;      ///< for {{now.*}}, one instant for all
  /// For {{git.branch}}: called at most once, and only when a placeholder needs it.
  std::function<std::string()> git_branch;
  /// For {{env.NAME}} not in `env`: the variable's value or nullptr (unset: not asked).
  std::function<const std::string*(const std::string&)> env_lookup = {};
  /// Every variable's name, for suggestions when one is not set (unset: `env`'s names).
  std::function<std::vector<std::string>()> env_names = {};
};

/// A key whose placeholders could not be resolved, and why.
struct InterpolationFailure {
  KeyPath key;
  ConfigError error;
};

/// The configuration as far as it resolves: every key that failed holds null in `value` and
/// is listed in `failures`, in the order they were met (a key that needs a failed one fails too).
struct Interpolated {
  Datum value;
  std::vector<InterpolationFailure> failures;
};

/// Interpolates every key it can, so that a placeholder that cannot be resolved fails only the
/// keys that use it. Throws only for a fault that is no key's (nesting deeper than the limit).
Interpolated interpolate_each(const Datum& config, const InterpolationContext& context);

/// `config` with every placeholder in every string (in records and lists) replaced. Throws
/// ConfigError naming the key that holds the faulty placeholder:
/// `provisioning::config::unknown_placeholder` (unknown namespace, key or variable),
/// `provisioning::config::interpolation_cycle` (references that lead back to themselves),
/// `provisioning::config::bad_placeholder` (unterminated or malformed, or a record or list
/// inside longer text), `provisioning::config::interpolation_depth` (resolving one key goes
/// through more than 1024 keys, nesting and references counted). The error is the first failure
/// of interpolate_each.
Datum interpolate(const Datum& config, const InterpolationContext& context);

/// `text` with every `{{` escaped, so that interpolation gives back `text` as it is.
std::string escape_placeholders(std::string_view text);

}  // namespace prov
