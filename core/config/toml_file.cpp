#include "core/config/toml_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <toml++/toml.h>
#include <vector>

#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

std::string format_date(const toml::date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", unsigned{d.year}, unsigned{d.month},
                unsigned{d.day});
  return buf;
}

std::string format_time(const toml::time& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02u:%02u:%02u", unsigned{t.hour}, unsigned{t.minute},
                unsigned{t.second});
  std::string out = buf;
  if (t.nanosecond != 0) {
    std::snprintf(buf, sizeof buf, ".%09u", unsigned{t.nanosecond});
    std::string frac = buf;
    frac.erase(frac.find_last_not_of('0') + 1);
    out += frac;
  }
  return out;
}

/// "+HH:MM"; local values (no offset) count as UTC.
std::string format_offset(const std::optional<toml::time_offset>& offset) {
  const int minutes = offset ? offset->minutes : 0;
  const int magnitude = minutes < 0 ? -minutes : minutes;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', magnitude / 60,
                magnitude % 60);
  return buf;
}

Datum to_datum(const toml::node& node);

Datum table_to_datum(const toml::table& table) {
  // toml++ keeps tables sorted by name; the keys' source positions give the author's order.
  std::vector<std::pair<const toml::key*, const toml::node*>> members;
  for (const auto& [key, value] : table) members.emplace_back(&key, &value);
  std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
    const toml::source_position pa = a.first->source().begin, pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  DatumRecord record;
  record.reserve(members.size());
  for (const auto& [key, value] : members)
    record.emplace_back(std::string(key->str()), to_datum(*value));
  return record;
}

Datum to_datum(const toml::node& node) {
  if (const toml::table* t = node.as_table()) return table_to_datum(*t);
  if (const toml::array* a = node.as_array()) {
    DatumList list;
    list.reserve(a->size());
    for (const toml::node& item : *a) list.push_back(to_datum(item));
    return list;
  }
  if (auto v = node.as_string()) return v->get();
  if (auto v = node.as_integer()) return v->get();
  if (auto v = node.as_floating_point()) return v->get();
  if (auto v = node.as_boolean()) return v->get();
  if (auto v = node.as_date()) return DateTime{format_date(v->get()) + "T00:00:00+00:00"};
  if (auto v = node.as_time()) return format_time(v->get());
  if (auto v = node.as_date_time()) {
    const toml::date_time& dt = v->get();
    return DateTime{format_date(dt.date) + "T" + format_time(dt.time) + format_offset(dt.offset)};
  }
  return Datum();  // toml++ has no other node kinds
}

/// The end of the string that starts at `i`: basic or literal, single- or multi-line (an
/// unterminated one ends at the line's or the text's end; toml++ reports it).
size_t skip_string(std::string_view text, size_t i) {
  const char quote = text[i];
  const bool multi_line = text.compare(i, 3, std::string(3, quote)) == 0;
  for (i += multi_line ? 3 : 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (multi_line ? text.compare(i, 3, std::string(3, quote)) == 0 : text[i] == quote) {
      return i + (multi_line ? 3 : 1);
    } else if (!multi_line && text[i] == '\n') {
      return i;
    }
  }
  return text.size();
}

/// The offset of the first non-ASCII byte outside strings and comments, or npos. TOML allows
/// none there (bare keys are ASCII), and toml++ 3.3 reaches TOML_UNREACHABLE, undefined
/// behaviour, for some of them (U+00E9, U+3001, …) when it checks them for whitespace: such
/// text is refused before toml++ sees it.
size_t first_stray_non_ascii(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      i = skip_string(text, i);
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      return i;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}

/// The offset where the tables and arrays of TOML `text` nest deeper than `limit`, or npos,
/// found without parsing: the depth counted is the parts of the keys (`a.b.c = 1`, `[a.b.c]`)
/// plus the arrays and inline tables around a value (an array of tables may add a level per
/// header part). toml++ limits nested values but not dotted keys, and builds, converts and
/// destroys tables recursively: a key of 100,000 parts overflows the stack.
size_t first_too_deep(std::string_view text, size_t limit) {
  size_t header = 0;         // parts of the current [table] header
  std::vector<size_t> open;  // depth of each open array ('[') or inline table ('{')
  std::vector<char> kind;    // '[' or '{', beside open
  bool in_key = true, line_start = true;
  size_t key_parts = 1, value_depth = 0;
  auto base = [&] { return open.empty() ? header : open.back(); };
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      i = skip_string(text, i);
      line_start = false;
      continue;
    }
    if (c == '\n' && open.empty()) in_key = true, key_parts = 1, line_start = true;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (in_key && line_start && c == '[') {  // [table] or [[array.of.tables]]
      header = 1;
      for (++i; i < text.size() && text[i] != ']' && text[i] != '\n';) {
        if (text[i] == '"' || text[i] == '\'') {
          i = skip_string(text, i);
          continue;
        }
        if (text[i] == '.' && ++header > limit) return i;
        ++i;
      }
      in_key = line_start = false;
      continue;
    }
    line_start = false;
    if (in_key) {
      if (c == '.' && base() + ++key_parts > limit) return i;
      if (c == '=') in_key = false, value_depth = base() + key_parts;
      if (c == '}' && !open.empty()) open.pop_back(), kind.pop_back(), in_key = false;  // {}
    } else if (c == '[' || c == '{') {
      if (value_depth > limit) return i;
      open.push_back(value_depth);
      kind.push_back(c);
      if (c == '[') value_depth = open.back() + 1;
      else in_key = true, key_parts = 1;
    } else if ((c == ',' || c == ']' || c == '}') && !open.empty()) {
      if (c != ',') open.pop_back(), kind.pop_back();
      if (!open.empty() && kind.back() == '[') value_depth = open.back() + 1;
      if (c == ',' && kind.back() == '{') in_key = true, key_parts = 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

/// A parse error at byte offset `at` of `text`.
ConfigError parse_error_at(std::string_view text, size_t at, const std::string& path, const std::string& what,
                           std::string help) {
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(at), '\n'));
  const size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
  const int column = static_cast<int>(line_start == std::string_view::npos ? at + 1 : at - line_start);
  ConfigError error("provisioning::config::parse",
                    "invalid TOML in " + path + " at line " + std::to_string(line) + ", column " +
                        std::to_string(column) + ": " + what,
                    std::move(help));
  error.at(FilePosition{path, line, column});
  return error;
}

}  // namespace

void check_toml_text(std::string_view text, const std::string& path) {
  if (const size_t at = first_too_deep(text, kMaxTomlDepth); at != std::string_view::npos)
    throw parse_error_at(text, at, path,
                         "tables and arrays nest deeper than " + std::to_string(kMaxTomlDepth) + " levels",
                         "flatten the data; a configuration or workflow needs far fewer levels");
  if (const size_t at = first_stray_non_ascii(text); at != std::string_view::npos)
    throw parse_error_at(text, at, path, "a character outside a string or comment that is not ASCII",
                         "keys without quotes are ASCII letters, digits, '-' and '_'; quote anything else");
}

Datum parse_toml(std::string_view text, const std::string& path) {
  check_toml_text(text, path);
  try {
    toml::table table = toml::parse(text, std::string_view(path));
    return table_to_datum(table);
  } catch (const toml::parse_error& e) {
    const int line = static_cast<int>(e.source().begin.line);
    const int column = static_cast<int>(e.source().begin.column);
    ConfigError error("provisioning::config::parse",
                      "invalid TOML in " + path + " at line " + std::to_string(line) +
                          ", column " + std::to_string(column) + ": " +
                          std::string(e.description()),
                      "fix the TOML syntax at that position");
    error.at(FilePosition{path, line, column});
    throw error;
  }
}

std::optional<Datum> read_toml_file(const std::string& path) {
  std::string why;
  std::optional<FileContent> content = read_regular_file(path, Links::follow, why);
  if (!why.empty())
    throw ConfigError("provisioning::config::read", "cannot read " + path + ": " + why,
                      "check that it is a readable file");
  if (!content) return std::nullopt;
  return parse_toml(content->data, path);
}

}  // namespace prov
