#include "core/state/state_name.hpp"

#include <cstdint>

namespace prov {

namespace {

constexpr size_t kMaxName = 200;
constexpr size_t kHashPart = 1 + 16;  // "~" and 16 hex digits
constexpr char kHex[] = "0123456789ABCDEF";

bool kept(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || (c == '.' && !first);
}

/// FNV-1a, 64 bits.
uint64_t hash64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string state_file_name(std::string_view id) {
  std::string name;
  name.reserve(id.size());
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (kept(c, i == 0)) {
      name += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      name += '%';
      name += kHex[b >> 4];
      name += kHex[b & 15];
    }
  }
  if (name.empty()) return "%";  // no id is empty; still, never an empty name
  if (name.size() <= kMaxName) return name;
  size_t cut = kMaxName - kHashPart;
  // Never inside a %XX: back up to the escape's start when the cut falls in one.
  if (name[cut - 1] == '%')
    cut -= 1;
  else if (name[cut - 2] == '%')
    cut -= 2;
  name.resize(cut);
  uint64_t h = hash64(id);
  std::string tail(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) tail[static_cast<size_t>(i)] = "0123456789abcdef"[h & 15];
  return name + "~" + tail;
}

std::string operation_log_name(std::string_view op_id) { return state_file_name(op_id) + ".log"; }

}  // namespace prov
