#pragma once
/// Which Nushell releases this plugin serves, and how their wire formats differ.

#include <optional>
#include <string>

#include "plugin/protocol/value_wire.hpp"

namespace prov::plugin {

struct SemVer {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const SemVer&) const = default;
  std::string to_string() const;
};

/// Parses "0.115.1" (a pre-release or build suffix is ignored); nullopt when malformed.
std::optional<SemVer> parse_semver(const std::string& text);

/// Oldest and newest-minor engines tested: 0.107.0 up to any 0.115.x.
inline constexpr SemVer kOldestEngine{0, 107, 0};
inline constexpr SemVer kNewestEngineMinor{0, 115, 0};
/// The first engine that asks plugins for completions (the GetCompletion call).
inline constexpr SemVer kCompletionsEngine{0, 109, 0};
/// The first engine that answers engine calls (current directory, environment) made during a
/// GetCompletion; older ones answer them with an error.
inline constexpr SemVer kCompletionContextEngine{0, 115, 0};
/// "0.107.0 through 0.115.x", for messages.
std::string supported_range_text();
/// True when `v` lies in the tested range.
bool engine_supported(const SemVer& v);
/// The value shapes that engine version expects.
Dialect dialect_for(const SemVer& v);

}  // namespace prov::plugin
