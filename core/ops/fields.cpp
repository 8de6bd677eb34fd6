#include "core/ops/fields.hpp"

#include "core/support/error.hpp"

namespace prov {

namespace {

bool is_scalar(const Datum& d) {
  return std::holds_alternative<std::string>(d.v) || std::holds_alternative<int64_t>(d.v) ||
         std::holds_alternative<double>(d.v) || std::holds_alternative<bool>(d.v);
}

}  // namespace

void Fields::invalid(std::string_view name, const std::string& what) const {
  throw WorkflowError("provisioning::workflow::invalid_field",
                      "operation `" + op_.id + "` (" + op_.kind + "): field `" +
                          std::string(name) + "` " + what,
                      "fix the field `" + std::string(name) + "` of operation `" + op_.id + "`",
                      Blame::input());
}

const Datum* Fields::get(std::string_view name) const {
  const Datum* d = op_.fields.find(name);
  return d && !d->is_null() ? d : nullptr;
}

std::string Fields::string(std::string_view name) const {
  std::optional<std::string> s = optional_string(name);
  if (!s) invalid(name, "is required (a string)");
  return *s;
}

std::optional<std::string> Fields::optional_string(std::string_view name) const {
  const Datum* d = get(name);
  if (!d) return std::nullopt;
  if (!d->is_string()) invalid(name, "must be a string, not " + d->type_name());
  return d->str();
}

std::vector<std::string> Fields::argv(std::string_view name) const {
  std::optional<std::vector<std::string>> a = optional_argv(name);
  if (!a) invalid(name, "is required (a list of strings: the program and its arguments)");
  return *a;
}

std::optional<std::vector<std::string>> Fields::optional_argv(std::string_view name) const {
  const Datum* d = get(name);
  if (!d) return std::nullopt;
  if (!d->is_list())
    invalid(name, "must be a list (the program and its arguments), not " + d->type_name() +
                      "; no shell splits a string here");
  if (d->list().empty()) invalid(name, "must name a program: the list is empty");
  std::vector<std::string> out;
  for (const Datum& item : d->list()) {
    if (!is_scalar(item)) invalid(name, "must hold strings, not " + item.type_name());
    out.push_back(item.is_string() ? item.str() : to_display(item));
    if (out.back().find('\0') != std::string::npos) invalid(name, "holds a NUL character");
  }
  if (out[0].empty()) invalid(name, "must name a program: its first element is empty");
  return out;
}

Environment Fields::env(std::string_view name) const {
  const Datum* d = get(name);
  if (!d) return {};
  if (!d->is_record()) invalid(name, "must be a record of strings, not " + d->type_name());
  Environment out;
  for (const auto& [key, value] : d->record()) {
    if (key.empty() || key.find('=') != std::string::npos)
      invalid(name, "has a variable name that is empty or holds '=': \"" + key + "\"");
    if (!is_scalar(value))
      invalid(name, "must hold strings, but `" + key + "` is " + value.type_name());
    std::string text = value.is_string() ? value.str() : to_display(value);
    if (text.find('\0') != std::string::npos || key.find('\0') != std::string::npos)
      invalid(name, "holds a NUL character in `" + key + "`");
    out[key] = std::move(text);
  }
  return out;
}

}  // namespace prov
