#include "core/extensions/semver.hpp"

#include <algorithm>
#include <cctype>

namespace prov {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<uint64_t> number(std::string_view s) {
  if (!all_digits(s) || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (true) {
    size_t e = s.find(sep, b);
    out.push_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

bool is_wild(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

/// A version in a range, possibly partial ("1", "1.2", "1.x"): the parts given, then wildcards.
struct Partial {
  SemVer v;
  int parts = 0;  ///< how many of major, minor, patch were given (0 for "*")
};

std::optional<Partial> parse_partial(std::string_view text, std::string& why) {
  Partial p;
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  if (text.empty() || is_wild(text)) return p;
  std::string_view core = text;
  std::string_view pre;
  bool has_pre = false;
  if (size_t plus = core.find('+'); plus != std::string_view::npos) core = core.substr(0, plus);
  if (size_t dash = core.find('-'); dash != std::string_view::npos) {
    pre = core.substr(dash + 1);
    core = core.substr(0, dash);
    has_pre = true;
  }
  auto parts = split(core, '.');
  if (parts.size() > 3) {
    why = "`" + std::string(text) + "` has more than three numbers";
    return std::nullopt;
  }
  uint64_t* fields[3] = {&p.v.major, &p.v.minor, &p.v.patch};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (is_wild(parts[i])) break;
    auto n = number(parts[i]);
    if (!n) {
      why = "`" + std::string(text) + "` is not a version (`" + std::string(parts[i]) + "` is not a number)";
      return std::nullopt;
    }
    *fields[i] = *n;
    p.parts = static_cast<int>(i) + 1;
  }
  if (has_pre) {
    if (p.parts != 3) {
      why = "`" + std::string(text) + "`: a pre-release needs a full MAJOR.MINOR.PATCH";
      return std::nullopt;
    }
    for (auto id : split(pre, '.')) {
      if (id.empty()) {
        why = "`" + std::string(text) + "` has an empty pre-release identifier";
        return std::nullopt;
      }
      p.v.pre.emplace_back(id);
    }
  }
  return p;
}

SemVer bump(const SemVer& v, int part) {
  SemVer b;
  if (part == 0) b.major = v.major + 1;
  else if (part == 1) { b.major = v.major; b.minor = v.minor + 1; }
  else { b.major = v.major; b.minor = v.minor; b.patch = v.patch + 1; }
  // "-0" is the lowest pre-release: < X.Y.Z-0 excludes every pre-release of X.Y.Z as well.
  b.pre = {"0"};
  return b;
}

}  // namespace

std::optional<SemVer> SemVer::parse(std::string_view text, std::string& why) {
  text = trim(text);
  auto p = parse_partial(text, why);
  if (!p) return std::nullopt;
  if (p->parts != 3) {
    why = "`" + std::string(text) + "` is not a full version (MAJOR.MINOR.PATCH, such as 1.4.0)";
    return std::nullopt;
  }
  for (const auto& id : p->v.pre) {
    bool ok = std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
    if (!ok || (all_digits(id) && id.size() > 1 && id[0] == '0')) {
      why = "`" + std::string(text) + "` has an invalid pre-release identifier `" + id + "`";
      return std::nullopt;
    }
  }
  return p->v;
}

std::string SemVer::to_string() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  for (size_t i = 0; i < pre.size(); ++i) s += (i == 0 ? "-" : ".") + pre[i];
  return s;
}

int compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.pre.empty() != b.pre.empty()) return a.pre.empty() ? 1 : -1;
  for (size_t i = 0; i < std::min(a.pre.size(), b.pre.size()); ++i) {
    const std::string &x = a.pre[i], &y = b.pre[i];
    bool nx = all_digits(x), ny = all_digits(y);
    if (nx && ny) {
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (x != y) return x < y ? -1 : 1;
    } else if (nx != ny) {
      return nx ? -1 : 1;
    } else if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  if (a.pre.size() != b.pre.size()) return a.pre.size() < b.pre.size() ? -1 : 1;
  return 0;
}

std::optional<VersionRange> VersionRange::parse(std::string_view text, std::string& why) {
  VersionRange r;
  r.text_ = std::string(trim(text));
  if (r.text_.empty()) {
    why = "the range is empty";
    return std::nullopt;
  }
  using Op = Comparator::Op;
  for (std::string_view alt : [&] {
         std::vector<std::string_view> alts;
         std::string_view rest = r.text_;
         while (true) {
           size_t bar = rest.find("||");
           alts.push_back(rest.substr(0, bar));
           if (bar == std::string_view::npos) break;
           rest = rest.substr(bar + 2);
         }
         return alts;
       }()) {
    Set set;
    std::string tokens(alt);
    std::replace(tokens.begin(), tokens.end(), ',', ' ');
    std::vector<std::string> words;
    {
      std::string w;
      for (char c : tokens) {
        if (std::isspace(static_cast<unsigned char>(c))) {
          if (!w.empty()) words.push_back(std::move(w)), w.clear();
        } else {
          w += c;
        }
      }
      if (!w.empty()) words.push_back(std::move(w));
    }
    // ">= 1.2" written with a space: join an operator with the version after it.
    std::vector<std::string> comps;
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      bool only_op = w.find_first_not_of("<>=^~") == std::string::npos;
      if (only_op && i + 1 < words.size()) comps.push_back(w + words[++i]);
      else comps.push_back(w);
    }
    if (comps.empty()) {
      why = "`" + r.text_ + "` has an empty alternative";
      return std::nullopt;
    }
    for (const std::string& c : comps) {
      size_t n = c.find_first_not_of("<>=^~");
      std::string op = c.substr(0, n == std::string::npos ? c.size() : n);
      std::string ver = n == std::string::npos ? "" : c.substr(n);
      if (ver.empty()) {
        why = "`" + c + "` has no version after the operator";
        return std::nullopt;
      }
      auto p = parse_partial(ver, why);
      if (!p) return std::nullopt;
      const SemVer& v = p->v;
      if (op == "^") {
        int part = v.major != 0 || p->parts < 2 ? 0 : (v.minor != 0 || p->parts < 3 ? 1 : 2);
        if (p->parts == 0) continue;
        set.push_back({Op::ge, v});
        set.push_back({Op::lt, bump(v, part)});
      } else if (op == "~") {
        if (p->parts == 0) continue;
        set.push_back({Op::ge, v});
        set.push_back({Op::lt, bump(v, p->parts == 1 ? 0 : 1)});
      } else if (op.empty() || op == "=") {
        if (p->parts == 3) {
          set.push_back({Op::eq, v});
        } else if (p->parts > 0) {
          set.push_back({Op::ge, v});
          set.push_back({Op::lt, bump(v, p->parts - 1)});
        }
      } else if (op == ">" || op == ">=" || op == "<" || op == "<=") {
        if (p->parts == 0) {
          if (op == "<" || op == ">") {
            why = "`" + c + "` matches nothing";
            return std::nullopt;
          }
          continue;
        }
        if (p->parts == 3) {
          set.push_back({op == ">" ? Op::gt : op == ">=" ? Op::ge : op == "<" ? Op::lt : Op::le, v});
        } else if (op == ">=") {
          set.push_back({Op::ge, v});
        } else if (op == "<") {
          set.push_back({Op::lt, v});
        } else if (op == ">") {
          set.push_back({Op::ge, bump(v, p->parts - 1)});
        } else {
          set.push_back({Op::lt, bump(v, p->parts - 1)});
        }
      } else {
        why = "`" + c + "` has an unknown operator `" + op + "` (use =, >, >=, <, <=, ^ or ~)";
        return std::nullopt;
      }
    }
    r.sets_.push_back(std::move(set));
  }
  return r;
}

bool VersionRange::matches(const SemVer& v) const {
  using Op = Comparator::Op;
  for (const Set& set : sets_) {
    bool ok = true, pre_allowed = v.pre.empty();
    for (const Comparator& c : set) {
      int k = compare(v, c.version);
      bool sat = c.op == Op::eq ? k == 0 : c.op == Op::gt ? k > 0 : c.op == Op::ge ? k >= 0 : c.op == Op::lt ? k < 0 : k <= 0;
      if (!sat) { ok = false; break; }
      const SemVer& cv = c.version;
      bool bumped = cv.pre.size() == 1 && cv.pre[0] == "0" && (c.op == Op::lt);
      if (!cv.pre.empty() && !bumped && cv.major == v.major && cv.minor == v.minor && cv.patch == v.patch)
        pre_allowed = true;
    }
    if (ok && pre_allowed) return true;
  }
  return false;
}

}  // namespace prov
