#include "plugin/protocol/engine_version.hpp"

#include <charconv>

namespace prov::plugin {

std::string SemVer::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<SemVer> parse_semver(const std::string& text) {
  SemVer v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc() || next == p) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end && *p != '-' && *p != '+') return std::nullopt;
  return v;
}

std::string supported_range_text() {
  return kOldestEngine.to_string() + " through " + std::to_string(kNewestEngineMinor.major) + "." +
         std::to_string(kNewestEngineMinor.minor) + ".x";
}

bool engine_supported(const SemVer& v) {
  return v >= kOldestEngine && SemVer{v.major, v.minor, 0} <= kNewestEngineMinor;
}

Dialect dialect_for(const SemVer& v) { return Dialect{v >= SemVer{0, 114, 0}}; }

}  // namespace prov::plugin
