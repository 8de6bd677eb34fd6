#include "core/ops/toml_edit.hpp"

#include <algorithm>
#include <vector>

#include "core/config/toml_file.hpp"
#include "core/ops/toml_writer.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

/// A `[table]` or `[[array]]` header, or the root (index 0, no header).
struct Section {
  KeyPath path;
  bool array = false;
  size_t start = 0;  ///< where its header line starts
  size_t end = 0;    ///< after its header line
};

/// A `key = value` line.
struct Statement {
  KeyPath key;  ///< from the root: the section's path and the dotted key
  size_t section = 0;
  size_t line_start = 0;
  size_t key_start = 0;
  size_t value_start = 0, value_end = 0;
  size_t end = 0;  ///< after its line (past the newline, or the end of the text)
};

struct Layout {
  std::vector<Section> sections;
  std::vector<Statement> statements;
};

bool is_bare(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Scans a TOML document that parse_toml accepted: where its sections, keys and values are.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : t_(text) {}

  Layout scan() {
    Layout out;
    out.sections.push_back({});
    size_t section = 0;
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '#') {
        to_line_end();
      } else if (c == '[') {
        Section s;
        s.start = i_;
        s.array = i_ + 1 < t_.size() && t_[i_ + 1] == '[';
        i_ += s.array ? 2 : 1;
        s.path = key();
        skip_blank();
        i_ += s.array ? 2 : 1;  // the closing bracket(s)
        s.end = line_end();
        i_ = s.end;
        out.sections.push_back(std::move(s));
        section = out.sections.size() - 1;
      } else {
        Statement st;
        st.section = section;
        st.key_start = i_;
        const size_t nl = t_.rfind('\n', i_ == 0 ? 0 : i_ - 1);
        st.line_start = nl == std::string_view::npos || i_ == 0 ? 0 : nl + 1;
        st.key = out.sections[section].path;
        for (std::string& part : key()) st.key.push_back(std::move(part));
        skip_blank();
        ++i_;  // '='
        skip_blank();
        st.value_start = i_;
        st.value_end = value_end();
        i_ = st.value_end;
        st.end = line_end();
        i_ = st.end;
        out.statements.push_back(std::move(st));
      }
    }
    return out;
  }

 private:
  std::string_view t_;
  size_t i_ = 0;

  void skip_blank() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t')) ++i_;
  }
  void to_line_end() {
    while (i_ < t_.size() && t_[i_] != '\n') ++i_;
  }
  /// After the newline that ends the line at i_ (a comment may come first), or the text's end.
  size_t line_end() const {
    const size_t nl = t_.find('\n', i_);
    return nl == std::string_view::npos ? t_.size() : nl + 1;
  }

  /// A dotted key at i_; i_ ends after it.
  KeyPath key() {
    KeyPath parts;
    for (;;) {
      skip_blank();
      std::string part;
      if (i_ < t_.size() && t_[i_] == '"') {
        for (++i_; i_ < t_.size() && t_[i_] != '"'; ++i_) {
          if (t_[i_] != '\\') {
            part += t_[i_];
            continue;
          }
          const char e = t_[++i_];
          switch (e) {
            case 'b': part += '\b'; break;
            case 't': part += '\t'; break;
            case 'n': part += '\n'; break;
            case 'f': part += '\f'; break;
            case 'r': part += '\r'; break;
            case 'u':
            case 'U': {
              const size_t n = e == 'u' ? 4 : 8;
              append_utf8(part, std::stoul(std::string(t_.substr(i_ + 1, n)), nullptr, 16));
              i_ += n;
              break;
            }
            default: part += e;
          }
        }
        ++i_;
      } else if (i_ < t_.size() && t_[i_] == '\'') {
        const size_t close = t_.find('\'', i_ + 1);
        part = std::string(t_.substr(i_ + 1, close - i_ - 1));
        i_ = close + 1;
      } else {
        while (i_ < t_.size() && is_bare(t_[i_])) part += t_[i_++];
      }
      parts.push_back(std::move(part));
      skip_blank();
      if (i_ < t_.size() && t_[i_] == '.') {
        ++i_;
        continue;
      }
      return parts;
    }
  }

  /// The end of the string at `at`, of any of TOML's four kinds.
  size_t string_end(size_t at) const {
    const char q = t_[at];
    const bool multi = t_.compare(at, 3, std::string(3, q)) == 0;
    size_t j = at + (multi ? 3 : 1);
    while (j < t_.size()) {
      if (q == '"' && t_[j] == '\\') {
        j += 2;
      } else if (multi && t_.compare(j, 3, std::string(3, q)) == 0) {
        j += 3;
        for (int extra = 0; extra < 2 && j < t_.size() && t_[j] == q; ++extra) ++j;  // """a"""""
        return j;
      } else if (!multi && t_[j] == q) {
        return j + 1;
      } else {
        ++j;
      }
    }
    return t_.size();
  }

  /// The end of the value at i_.
  size_t value_end() const {
    const char c = t_[i_];
    if (c == '"' || c == '\'') return string_end(i_);
    if (c == '[' || c == '{') {
      int depth = 0;
      for (size_t j = i_; j < t_.size();) {
        const char d = t_[j];
        if (d == '"' || d == '\'') {
          j = string_end(j);
        } else if (d == '#') {
          while (j < t_.size() && t_[j] != '\n') ++j;
        } else {
          if (d == '[' || d == '{') ++depth;
          if ((d == ']' || d == '}') && --depth == 0) return j + 1;
          ++j;
        }
      }
      return t_.size();
    }
    size_t j = i_;
    while (j < t_.size() && t_[j] != '#' && t_[j] != '\n') ++j;
    while (j > i_ && (t_[j - 1] == ' ' || t_[j - 1] == '\t' || t_[j - 1] == '\r')) --j;
    return j;
  }
};

bool starts_with(const KeyPath& path, const KeyPath& prefix) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

size_t common_prefix(const KeyPath& a, const KeyPath& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

std::string dotted(const KeyPath& path, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < path.size(); ++i) out += (i == from ? "" : ".") + toml_key_text(path[i]);
  return out;
}

[[noreturn]] void refuse(const KeyPath& key, const std::string& file, const std::string& why) {
  throw ConfigError("provisioning::config::cannot_edit",
                    "cannot set " + render_key(key) + " in " + file + " in place: " + why,
                    "edit " + file + " by hand, or choose another key");
}

/// Records equal whatever the order of their members (an added key is not appended).
bool same(const Datum& a, const Datum& b) {
  if (a.is_record() && b.is_record()) {
    if (a.record().size() != b.record().size()) return false;
    for (const auto& [k, v] : a.record()) {
      const Datum* other = b.find(k);
      if (!other || !same(v, *other)) return false;
    }
    return true;
  }
  if (a.is_list() && b.is_list()) {
    if (a.list().size() != b.list().size()) return false;
    for (size_t i = 0; i < a.list().size(); ++i)
      if (!same(a.list()[i], b.list()[i])) return false;
    return true;
  }
  return a == b;
}

void set_path(Datum& root, const KeyPath& key, Datum value) {
  Datum* at = &root;
  for (size_t i = 0; i + 1 < key.size(); ++i) {
    Datum* next = at->find(key[i]);
    if (!next) {
      at->set(key[i], DatumRecord{});
      next = at->find(key[i]);
    }
    at = next;
  }
  at->set(key.back(), std::move(value));
}

/// Where and what to add for a key the document lacks.
std::pair<size_t, std::string> insertion(std::string_view text, const Layout& layout, const KeyPath& key,
                                         const std::string& value_text) {
  const KeyPath parent(key.begin(), key.end() - 1);
  // The section that already holds most of the key's parent (by its header or by a dotted
  // key in it), and in it the last line that holds as much, or else its last line.
  size_t best_section = 0, best_score = 0;
  const Statement* anchor = nullptr;
  for (size_t s = 0; s < layout.sections.size(); ++s) {
    const Section& section = layout.sections[s];
    if (section.array || !starts_with(parent, section.path)) continue;
    size_t score = section.path.size();
    const Statement *deepest = nullptr, *last = nullptr;
    for (const Statement& st : layout.statements) {
      if (st.section != s) continue;
      last = &st;
      const size_t cp = std::min(common_prefix(st.key, parent), parent.size());
      if (cp > section.path.size() && cp >= score) score = cp, deepest = &st;
    }
    if (s == 0 || score > best_score) best_section = s, best_score = score, anchor = deepest ? deepest : last;
  }
  if (best_score == 0 && !parent.empty()) {
    std::string block = text.empty() ? "" : (text.back() == '\n' ? "\n" : "\n\n");
    block += "[" + dotted(parent) + "]\n" + toml_key_text(key.back()) + " = " + value_text + "\n";
    return {text.size(), block};
  }
  const Section& section = layout.sections[best_section];
  std::string line;
  size_t at;
  if (anchor) {
    at = anchor->end;
    line = std::string(text.substr(anchor->line_start, anchor->key_start - anchor->line_start));  // its indent
  } else if (best_section == 0) {
    at = layout.sections.size() > 1 ? layout.sections[1].start : text.size();
  } else {
    at = section.end;
  }
  line += dotted(key, section.path.size()) + " = " + value_text + "\n";
  if (at > 0 && text[at - 1] != '\n') line.insert(0, "\n");
  return {at, line};
}

}  // namespace

TomlEdit toml_set(std::string_view text, const KeyPath& key, const std::string& value_text, const std::string& file) {
  const Datum before = parse_toml(text, file);
  const Layout layout = Scanner(text).scan();
  for (const Section& s : layout.sections) {
    if (s.array && starts_with(key, s.path)) refuse(key, file, render_key(s.path) + " is an array of tables");
    if (!s.path.empty() && starts_with(s.path, key)) refuse(key, file, "it holds the table [" + dotted(s.path) + "]");
  }
  TomlEdit edit;
  for (const Statement& st : layout.statements) {
    if (st.key == key) {
      edit.previous = std::string(text.substr(st.value_start, st.value_end - st.value_start));
      edit.text = std::string(text.substr(0, st.value_start)) + value_text + std::string(text.substr(st.value_end));
    } else if (starts_with(key, st.key)) {
      const char first = text[st.value_start];
      if (first != '{' && first != '[')
        throw ConfigError(
            "provisioning::config::key_conflict",
            "cannot set " + render_key(key) + " in " + file + ": " + render_key(st.key) + " holds a value, not a table",
            "choose another key, or change " + render_key(st.key) + " first");
      refuse(key, file, render_key(st.key) + " is an inline " + (first == '{' ? "table" : "array"));
    } else if (starts_with(st.key, key)) {
      refuse(key, file, "it holds a table (" + render_key(st.key) + " is in it)");
    }
  }
  if (!edit.previous) {
    auto [at, block] = insertion(text, layout, key, value_text);
    edit.inserted = block;
    edit.text = std::string(text.substr(0, at)) + block + std::string(text.substr(at));
  }
  // The edit must give exactly the document with the key set, nothing more.
  Datum expected = before;
  const Datum parsed_value = parse_toml("v = " + value_text, "the new value");
  set_path(expected, key, *parsed_value.find("v"));
  std::optional<Datum> after;
  try {
    after = parse_toml(edit.text, file);
  } catch (const ConfigError&) {
  }
  if (!after || !same(*after, expected))
    refuse(key, file, "the edited document would not read back as the key set and nothing else changed");
  return edit;
}

std::string toml_remove(std::string_view text, const KeyPath& key, size_t inserted_size,
                        const std::function<bool(std::string_view)>& is_inserted, const std::string& file) {
  parse_toml(text, file);
  const Layout layout = Scanner(text).scan();
  for (const Statement& st : layout.statements) {
    if (st.key != key) continue;
    if (inserted_size > 0 && st.end >= inserted_size && is_inserted(text.substr(st.end - inserted_size, inserted_size)))
      return std::string(text.substr(0, st.end - inserted_size)) + std::string(text.substr(st.end));
    return std::string(text.substr(0, st.line_start)) + std::string(text.substr(st.end));
  }
  return std::string(text);
}

}  // namespace prov
