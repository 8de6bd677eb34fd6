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

}  // namespace

Datum parse_toml(std::string_view text, const std::string& path) {
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
