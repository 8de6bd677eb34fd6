#include "core/ops/toml_writer.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "core/support/duration.hpp"

namespace prov {

namespace {

using Member = std::pair<const toml::key*, const toml::node*>;

/// Members in the order they were read; ones never read (line 0) last, by name.
std::vector<Member> in_source_order(const toml::table& table) {
  std::vector<Member> members;
  for (const auto& [key, node] : table) members.emplace_back(&key, &node);
  std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    const toml::source_position pa = a.first->source().begin, pb = b.first->source().begin;
    if ((pa.line == 0) != (pb.line == 0)) return pb.line == 0;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return members;
}

bool is_section(const toml::node& n) {
  const toml::table* t = n.as_table();
  return t && !t->is_inline();
}

/// An array written as `[[name]]` sections: every element a table that is not inline.
bool is_section_array(const toml::node& n) {
  const toml::array* a = n.as_array();
  if (!a || a->empty()) return false;
  return std::all_of(a->begin(), a->end(), [](const toml::node& e) { return is_section(e); });
}

bool is_value(const toml::node& n) { return !is_section(n) && !is_section_array(n); }

}  // namespace

std::string toml_key_text(std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
  if (bare) return std::string(key);
  std::ostringstream s;  // a basic string with escapes: keys cannot be multi-line strings
  s << toml::toml_formatter{toml::value<std::string>(std::string(key)), toml::format_flags::none};
  return s.str();
}

namespace {

std::string key_text(std::string_view key) { return toml_key_text(key); }

void header(std::string& out, const std::string& text) {
  if (!out.empty()) out += '\n';
  out += text;
  out += '\n';
}

void emit(std::string& out, const toml::table& table, const std::string& path) {
  const std::vector<Member> members = in_source_order(table);
  for (const auto& [key, node] : members) {
    if (!is_value(*node)) continue;
    std::ostringstream s;
    s << toml::toml_formatter{*node};
    out += key_text(key->str()) + " = " + s.str() + "\n";
  }
  for (const auto& [key, node] : members) {
    if (is_value(*node)) continue;
    const std::string sub = (path.empty() ? "" : path + ".") + key_text(key->str());
    if (const toml::table* t = node->as_table()) {
      // A table holding only tables is implied by their headers; an empty one needs its own.
      if (t->empty() || std::any_of(t->begin(), t->end(), [](const auto& m) { return is_value(m.second); }))
        header(out, "[" + sub + "]");
      emit(out, *t, sub);
    } else {
      for (const toml::node& element : *node->as_array()) {
        header(out, "[[" + sub + "]]");
        emit(out, *element.as_table(), sub);
      }
    }
  }
}

}  // namespace

std::string render_toml(const toml::table& table) {
  std::string out;
  emit(out, table, "");
  return out;
}

namespace {

/// Makes every table in `node` inline, so that it prints as one value.
void make_inline(toml::node& node) {
  if (toml::table* t = node.as_table()) {
    t->is_inline(true);
    for (auto& [k, v] : *t) make_inline(v);
  } else if (toml::array* a = node.as_array()) {
    for (toml::node& e : *a) make_inline(e);
  }
}

}  // namespace

std::string render_inline_toml(const Datum& value, std::string& why) {
  std::unique_ptr<toml::node> node = to_toml(value, why);
  if (!node) return "";
  make_inline(*node);
  std::ostringstream s;
  s << toml::toml_formatter{*node, toml::format_flags::none};
  return s.str();
}

std::unique_ptr<toml::node> to_toml(const Datum& value, std::string& why) {
  return std::visit(
      [&why](const auto& v) -> std::unique_ptr<toml::node> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          why = "is null, which TOML cannot hold";
          return nullptr;
        } else if constexpr (std::is_same_v<T, DateTime>) {
          try {
            const toml::table doc = toml::parse("v = " + v.rfc3339);
            if (const toml::value<toml::date_time>* dt = doc["v"].as_date_time())
              return std::make_unique<toml::value<toml::date_time>>(dt->get());
          } catch (const toml::parse_error&) {
          }
          why = "holds a date TOML cannot write: " + v.rfc3339;
          return nullptr;
        } else if constexpr (std::is_same_v<T, Duration>) {
          return std::make_unique<toml::value<std::string>>(format_duration(v));
        } else if constexpr (std::is_same_v<T, DatumList>) {
          auto array = std::make_unique<toml::array>();
          for (const Datum& item : v) {
            std::unique_ptr<toml::node> n = to_toml(item, why);
            if (!n) return nullptr;
            array->push_back(std::move(*n));
          }
          return array;
        } else if constexpr (std::is_same_v<T, DatumRecord>) {
          auto table = std::make_unique<toml::table>();
          for (const auto& [key, item] : v) {
            std::unique_ptr<toml::node> n = to_toml(item, why);
            if (!n) return nullptr;
            table->insert_or_assign(key, std::move(*n));
          }
          return table;
        } else {
          return std::make_unique<toml::value<T>>(v);
        }
      },
      value.v);
}

}  // namespace prov
