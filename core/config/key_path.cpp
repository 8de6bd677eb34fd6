#include "core/config/key_path.hpp"

#include <charconv>

#include "core/support/nearest.hpp"

namespace prov {

namespace {

bool needs_quotes(const std::string& member) {
  if (member.empty()) return true;
  for (char c : member)
    if (c == '.' || c == '"' || c == '\\' || c == ' ' || c == '\t' || c == '\n') return true;
  return false;
}

/// The list index a member names, or nullopt when it is not all digits or too large.
std::optional<size_t> list_index(const std::string& member) {
  size_t index = 0;
  auto [end, ec] = std::from_chars(member.data(), member.data() + member.size(), index);
  if (member.empty() || ec != std::errc() || end != member.data() + member.size())
    return std::nullopt;
  return index;
}

}  // namespace

std::string render_key(const KeyPath& path) {
  std::string out;
  for (const std::string& member : path) {
    if (!out.empty()) out += '.';
    if (!needs_quotes(member)) {
      out += member;
      continue;
    }
    out += '"';
    for (char c : member) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::optional<KeyPath> parse_key(std::string_view text) {
  KeyPath path;
  size_t i = 0;
  while (true) {
    std::string member;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        member += text[i];
      }
      if (i >= text.size()) return std::nullopt;  // unterminated quote
      ++i;
    } else {
      while (i < text.size() && text[i] != '.') member += text[i++];
      if (member.empty()) return std::nullopt;
    }
    path.push_back(std::move(member));
    if (i == text.size()) return path;
    if (text[i] != '.') return std::nullopt;  // text after a closing quote
    ++i;
  }
}

PathLookup lookup_path(const Datum& root, const KeyPath& path) {
  PathLookup at{&root, 0};
  for (const std::string& member : path) {
    const Datum* next = nullptr;
    if (at.value->is_record()) {
      next = at.value->find(member);
    } else if (at.value->is_list()) {
      std::optional<size_t> index = list_index(member);
      if (index && *index < at.value->list().size()) next = &at.value->list()[*index];
    }
    if (!next) break;
    at.value = next;
    ++at.depth;
  }
  return at;
}

std::vector<std::string> nearest_keys(const Datum& root, const KeyPath& path, size_t limit) {
  const PathLookup at = lookup_path(root, path);
  if (at.found(path) || !at.value->is_record()) return {};
  std::vector<std::string> siblings;
  for (const auto& [key, value] : at.value->record()) siblings.push_back(key);
  const auto depth = static_cast<ptrdiff_t>(at.depth);
  std::vector<std::string> out;
  for (const std::string& name : nearest_names(path[at.depth], siblings, limit)) {
    KeyPath guess(path.begin(), path.begin() + depth);
    guess.push_back(name);
    KeyPath full = guess;
    full.insert(full.end(), path.begin() + depth + 1, path.end());
    out.push_back(render_key(lookup_path(root, full).found(full) ? full : guess));
  }
  return out;
}

}  // namespace prov
