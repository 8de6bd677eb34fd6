#include "core/support/limits.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

namespace prov {

namespace {

struct LimitField {
  const char* name;
  int64_t Limits::*member;
};

constexpr LimitField kFields[] = {
    {"message_size", &Limits::message_size},
    {"operations", &Limits::operations},
    {"depth", &Limits::depth},
    {"stream_length", &Limits::stream_length},
    {"request_size", &Limits::request_size},
    {"connections", &Limits::connections},
    {"streams", &Limits::streams},
};

std::string env_name(const char* field) {
  std::string n = "PROVISIONING_LIMITS_";
  for (const char* c = field; *c; ++c) n += static_cast<char>(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
  return n;
}

std::optional<int64_t> positive(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1) return std::nullopt;
  return n;
}

/// The first path (members and list indices) along which `d` nests deeper than `limit`, with
/// `depth` levels already open above it; false when there is none.
bool too_deep_at(const Datum& d, size_t depth, size_t limit, std::vector<std::string>& path) {
  if (!d.is_list() && !d.is_record()) return false;
  if (depth + 1 > limit) return true;
  if (d.is_list()) {
    for (size_t i = 0; i < d.list().size(); ++i) {
      path.push_back(std::to_string(i));
      if (too_deep_at(d.list()[i], depth + 1, limit, path)) return true;
      path.pop_back();
    }
  } else {
    for (const auto& [k, v] : d.record()) {
      path.push_back(k);
      if (too_deep_at(v, depth + 1, limit, path)) return true;
      path.pop_back();
    }
  }
  return false;
}

}  // namespace

std::string limit_help(const std::string& name) {
  if (name == "message_size")
    return "raise it with the environment variable PROVISIONING_LIMITS_MESSAGE_SIZE (bytes) of the Nu that starts "
           "the plugin, or send less at once";
  return "raise limits." + name + " in the workspace configuration (e.g. [limits] " + name +
         " = … in config.defaults.toml) or " + env_name(name.c_str()) +
         " in the environment of the Nu that starts the plugin";
}

Limits Limits::from_environment(const std::function<const char*(const char*)>& getenv) {
  Limits l;
  for (const LimitField& f : kFields) {
    const std::string var = env_name(f.name);
    const char* text = getenv(var.c_str());
    if (!text || !*text) continue;
    std::optional<int64_t> n = positive(text);
    if (!n)
      throw LimitError("provisioning::limits::bad_value",
                       var + " must be a whole number above 0, not '" + std::string(text) + "'",
                       "unset it to use the default, " + std::to_string(l.*f.member));
    l.*f.member = *n;
  }
  return l;
}

const Limits& Limits::process() {
  static const Limits limits = [] {
    try {
      return from_environment([](const char* n) { return std::getenv(n); });
    } catch (const LimitError&) {
      return Limits{};  // the plugin's start reports it; here the defaults stand
    }
  }();
  return limits;
}

Limits Limits::with_config(const Datum& config) const {
  Limits l = *this;
  const Datum* table = config.find("limits");
  if (!table || table->is_null()) return l;
  if (!table->is_record())
    throw LimitError("provisioning::limits::bad_value", "limits must be a table, not " + table->a_type_name(),
                     "write [limits] with operations, depth, stream_length as whole numbers");
  for (const LimitField& f : kFields) {
    const Datum* v = table->find(f.name);
    if (!v || v->is_null()) continue;
    const int64_t* n = std::get_if<int64_t>(&v->v);
    if (!n || *n < 1)
      throw LimitError("provisioning::limits::bad_value",
                       std::string("limits.") + f.name + " must be a whole number above 0, not " + to_display(*v),
                       "remove it to use the default, " + std::to_string(this->*f.member));
    l.*f.member = *n;
  }
  return l;
}

void check_depth(const Datum& value, const Limits& limits, const std::string& what, Blame blame) {
  std::vector<std::string> path;
  const size_t limit = static_cast<size_t>(limits.depth);
  if (!too_deep_at(value, 0, limit, path)) return;
  std::string at;
  for (const auto& m : path) at += (at.empty() ? "" : ".") + m;
  throw LimitError("provisioning::limits::depth",
                   what + " nests lists and records deeper than the limit of " + std::to_string(limit) +
                       " levels (limits.depth)" + (at.empty() ? "" : ", at " + at),
                   limit_help("depth"), std::move(blame));
}

void check_operations(size_t count, const Limits& limits, const std::string& what, Blame blame) {
  if (count <= static_cast<size_t>(limits.operations)) return;
  throw LimitError("provisioning::limits::operations",
                   what + " has " + std::to_string(count) + " operations, over the limit of " +
                       std::to_string(limits.operations) + " (limits.operations)",
                   limit_help("operations"), std::move(blame));
}

void check_stream_length(size_t count, const Limits& limits, Blame blame) {
  if (count <= static_cast<size_t>(limits.stream_length)) return;
  throw LimitError("provisioning::limits::stream_length",
                   "the input stream has more than " + std::to_string(limits.stream_length) +
                       " items, the limit (limits.stream_length); it was stopped at item " + std::to_string(count),
                   limit_help("stream_length"), std::move(blame));
}

void check_message_size(size_t bytes, const Limits& limits, const std::string& what, Blame blame) {
  if (bytes <= static_cast<size_t>(limits.message_size)) return;
  throw LimitError("provisioning::limits::message_size",
                   what + " is at least " + std::to_string(bytes) + " bytes, over the limit of " +
                       std::to_string(limits.message_size) + " bytes (limits.message_size)",
                   limit_help("message_size"), std::move(blame));
}

}  // namespace prov
