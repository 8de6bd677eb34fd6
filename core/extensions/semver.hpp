#pragma once
/// Semantic versions (https://semver.org) and the ranges extensions declare their compatibility
/// with: ">=0.1.0, <0.3.0", "^0.1", "~1.2.3", "1.x", "*", alternatives joined with "||".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prov {

/// MAJOR.MINOR.PATCH with an optional pre-release; build metadata is read and ignored.
struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> pre;  ///< dot-separated pre-release identifiers; empty: a release

  /// Parses a full version ("1.2.3", "1.2.3-rc.1+build.5", an optional leading 'v'); nullopt
  /// with `why` set when it is not one.
  static std::optional<SemVer> parse(std::string_view text, std::string& why);
  std::string to_string() const;
};

/// Precedence as semver.org defines it: <0, 0, >0.
int compare(const SemVer& a, const SemVer& b);

/// A set of versions: alternatives (||) of comparator sets, each satisfied when all its
/// comparators are. As npm and Cargo do, a pre-release version satisfies a set only when one of
/// its comparators names a pre-release of the same MAJOR.MINOR.PATCH.
class VersionRange {
 public:
  /// Parses a range; nullopt with `why` set (naming the part that is wrong) when it is not one.
  /// Comparators: =, >, >=, <, <=, ^, ~, bare versions (exact; "1.2" and "1.x" mean 1.2.*),
  /// and "*"; within a set they are separated by spaces or commas.
  static std::optional<VersionRange> parse(std::string_view text, std::string& why);
  bool matches(const SemVer& v) const;
  const std::string& text() const { return text_; }

 private:
  struct Comparator {
    enum class Op { eq, gt, ge, lt, le } op;
    SemVer version;
  };
  using Set = std::vector<Comparator>;
  std::vector<Set> sets_;
  std::string text_;
};

}  // namespace prov
