#include "core/support/duration.hpp"

#include <cstdint>
#include <limits>

namespace prov {

const char* const kDurationForms =
    "write a number and a unit, largest unit first, like \"1.5s\", \"500ms\", \"5m\", \"2h\" or "
    "\"1m30s\"; units: ns, us (µs), ms, s, m, h, d, w";

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// Wide enough for any count of weeks times their nanoseconds, so overflow is checked after.
__extension__ typedef unsigned __int128 Wide;

struct Unit {
  std::string_view name;
  int64_t nanos;
};

// Ordered largest first; a part's unit must come later in this table than the previous part's.
constexpr Unit kUnits[] = {
    {"w", 7 * kDay},   {"wk", 7 * kDay}, {"d", kDay},      {"day", kDay},  {"h", kHour},
    {"hr", kHour},     {"m", kMinute},   {"min", kMinute}, {"s", kSecond}, {"sec", kSecond},
    {"ms", 1'000'000}, {"us", 1'000},    {"µs", 1'000},    {"μs", 1'000},  {"ns", 1},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }
/// Letters of a unit name: ASCII letters and the bytes of "µ" (C2 B5) and "μ" (CE BC).
bool is_unit_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || u == 0xC2 || u == 0xB5 || u == 0xCE ||
         u == 0xBC;
}

/// `v / unit` as decimal text without trailing zeros in the fraction.
std::string decimal(uint64_t v, uint64_t unit) {
  std::string out = std::to_string(v / unit);
  uint64_t frac = v % unit;
  if (frac == 0) return out;
  std::string digits;
  for (uint64_t scale = unit / 10; scale > 0; scale /= 10) {
    digits += static_cast<char>('0' + frac / scale);
    frac %= scale;
  }
  digits.erase(digits.find_last_not_of('0') + 1);
  return out + "." + digits;
}

/// The text of format_duration for a length of time in nanoseconds.
std::string format_nanos(uint64_t u) {
  if (u == 0) return "0s";
  if (u < static_cast<uint64_t>(kMinute)) {
    if (u >= static_cast<uint64_t>(kSecond)) return decimal(u, kSecond) + "s";
    if (u >= 1'000'000) return decimal(u, 1'000'000) + "ms";
    if (u >= 1'000) return decimal(u, 1'000) + "us";
    return std::to_string(u) + "ns";
  }
  std::string out;
  uint64_t rest = u;
  for (const auto& [unit, suffix] : {std::pair{kDay, "d"}, {kHour, "h"}, {kMinute, "m"}}) {
    const uint64_t n = rest / static_cast<uint64_t>(unit);
    rest %= static_cast<uint64_t>(unit);
    if (n > 0) out += std::to_string(n) + suffix;
  }
  if (rest > 0) out += decimal(rest, kSecond) + "s";
  return out;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text, std::string& why) {
  const std::string quoted = "'" + std::string(text) + "'";
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip_spaces();
  if (i == text.size()) {
    why = "an empty text is not a duration";
    return std::nullopt;
  }
  const Wide limit = static_cast<Wide>(std::numeric_limits<int64_t>::max());
  Wide total = 0;
  size_t previous_unit = 0;  // index into kUnits + 1; 0 before the first part
  while (i < text.size()) {
    if (text[i] == '-' || text[i] == '+') {
      why = quoted + " has a sign; a duration is written without one";
      return std::nullopt;
    }
    Wide whole = 0, frac = 0, frac_scale = 1;
    size_t digits = 0;
    for (; i < text.size() && is_digit(text[i]); ++i, ++digits) {
      whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
      if (whole > limit) {
        why = quoted + " is too long a time";
        return std::nullopt;
      }
    }
    if (i < text.size() && text[i] == '.') {
      for (++i; i < text.size() && is_digit(text[i]); ++i, ++digits) {
        if (frac_scale >= Wide{1'000'000'000'000'000'000ULL}) continue;  // beyond a nanosecond
        frac = frac * 10 + static_cast<unsigned>(text[i] - '0');
        frac_scale *= 10;
      }
    }
    if (digits == 0) {
      why =
          quoted + " is not a duration: expected a number at '" + std::string(text.substr(i)) + "'";
      return std::nullopt;
    }
    skip_spaces();
    const size_t unit_start = i;
    while (i < text.size() && is_unit_byte(text[i])) ++i;
    const std::string_view unit_name = text.substr(unit_start, i - unit_start);
    if (unit_name.empty()) {
      why = i == text.size() ? quoted + " has no unit"
                             : quoted + " is not a duration: unexpected '" +
                                   std::string(text.substr(i, 1)) + "'";
      return std::nullopt;
    }
    size_t unit = 0;
    while (unit < std::size(kUnits) && kUnits[unit].name != unit_name) ++unit;
    if (unit == std::size(kUnits)) {
      why = quoted + " has an unknown unit '" + std::string(unit_name) + "'";
      return std::nullopt;
    }
    // Aliases share a size; compare sizes so that "1min1m" is caught as well as "1s1m".
    if (previous_unit != 0 && kUnits[unit].nanos >= kUnits[previous_unit - 1].nanos) {
      why = quoted + " repeats or reorders units; write each unit once, largest first";
      return std::nullopt;
    }
    previous_unit = unit + 1;
    const Wide nanos = static_cast<Wide>(kUnits[unit].nanos);
    total += whole * nanos + frac * nanos / frac_scale;
    if (total > limit) {
      why = quoted + " is too long a time (at most about 292 years)";
      return std::nullopt;
    }
    skip_spaces();
  }
  return Duration{static_cast<int64_t>(total)};
}

std::optional<Duration> to_duration(const Datum& value, std::string& why) {
  if (const auto* d = std::get_if<Duration>(&value.v)) return *d;
  if (value.is_string()) return parse_duration(value.str(), why);
  if (std::holds_alternative<int64_t>(value.v) || std::holds_alternative<double>(value.v)) {
    const std::string n = to_display(value);
    why = n + " is a bare " + value.type_name() + ", and its unit would be a guess: write \"" + n +
          "s\", \"" + n + "ms\" or \"" + n + "m\"";
    return std::nullopt;
  }
  why = "expected a duration or a string like \"1.5s\", got " + value.type_name();
  return std::nullopt;
}

std::string format_duration(Duration d) {
  if (d.nanos >= 0) return format_nanos(static_cast<uint64_t>(d.nanos));
  // Negate in unsigned arithmetic: INT64_MIN has no positive int64 counterpart.
  return "-" + format_nanos(uint64_t{0} - static_cast<uint64_t>(d.nanos));
}

Duration to_millis(Duration d) {
  constexpr int64_t ms = 1'000'000;
  return Duration{(d.nanos >= 0 ? d.nanos + ms / 2 : d.nanos - ms / 2) / ms * ms};
}

}  // namespace prov
