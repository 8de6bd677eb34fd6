#include "core/ops/kind_fields.hpp"

#include <algorithm>

#include "core/config/key_path.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

bool is_scalar(const Datum& d) {
  return d.is_string() || std::holds_alternative<int64_t>(d.v) || std::holds_alternative<double>(d.v) ||
         std::holds_alternative<bool>(d.v);
}

/// A record member that is present and not null.
const Datum* member(const Datum& record, std::string_view key) {
  const Datum* d = record.find(key);
  return d && !d->is_null() ? d : nullptr;
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

const std::vector<KindDecl>& kind_decls() {
  static const std::vector<KindDecl> kinds = {
      {"command",
       {{"run", FieldType::argv, true},
        {"env", FieldType::env, false},
        {"cwd", FieldType::name, false},
        {"stdin", FieldType::text, false},
        {"output", FieldType::output, false},
        {"rollback", FieldType::argv, false}},
       {OutShape::text, {}, false},
       true},
      {"nu",
       {{"code", FieldType::code, true}, {"input", FieldType::any, false}, {"rollback", FieldType::code, false}},
       {OutShape::any, {}, false},
       false},
      {"file.write",
       {{"path", FieldType::name, true}, {"content", FieldType::text, true}, {"mode", FieldType::mode, false}},
       {OutShape::record, {"path", "bytes", "sha256"}, false},
       false},
      {"config.set",
       {{"key", FieldType::key, true}, {"value", FieldType::any, true}},
       {OutShape::any, {}, false},
       false},
      {"server.create",
       {{"provider", FieldType::name, false}, {"server", FieldType::server, true}, {"replace", FieldType::any, false}},
       {OutShape::record, {"id", "name", "provider", "state", "created"}, true},
       false},
      {"server.delete",
       {{"provider", FieldType::name, false}, {"server_id", FieldType::name, true}},
       {OutShape::record, {"id", "deleted"}, false},
       false},
  };
  return kinds;
}

const KindDecl* find_kind_decl(std::string_view name) {
  for (const KindDecl& k : kind_decls())
    if (k.name == name) return &k;
  return nullptr;
}

OutShape out_shape(const OperationSpec& op) {
  const KindDecl* kind = find_kind_decl(op.kind);
  if (!kind) return {};
  if (op.kind == "command" && op.fields.is_record())
    if (const Datum* output = member(op.fields, "output"); output && output->is_string() && output->str() == "json")
      return {};
  return kind->out;
}

std::string kind_synopsis(const KindDecl& kind) {
  std::string fields;
  for (const FieldDecl& f : kind.fields) fields += (fields.empty() ? "" : ", ") + std::string(f.name) + (f.required ? "*" : "");
  return std::string(kind.name) + " (" + fields + ")";
}

const char* describe(FieldType type) {
  switch (type) {
    case FieldType::text:
      return "a string";
    case FieldType::name:
      return "a non-empty string";
    case FieldType::argv:
      return "a list of strings (the program and its arguments)";
    case FieldType::env:
      return "a record of strings";
    case FieldType::any:
      return "a value";
    case FieldType::mode:
      return "permission bits: an octal string like \"0644\" or an int of at most 0o777";
    case FieldType::key:
      return "a dotted key like \"servers.web.plan\"";
    case FieldType::server:
      return "a server spec: a record with at least a name";
    case FieldType::code:
      return "a non-empty string of Nu code (or, piped to `prov workflow run`, a closure)";
    case FieldType::output: return "\"text\" or \"json\"";
  }
  return "";
}

void check_argv(FieldProblems& p, const std::string& where, const std::string& field,
                const Datum& value) {
  if (!value.is_list()) {
    p.wrong_type(where, field, describe(FieldType::argv), value,
                 value.is_string()
                     ? "no shell splits a string here: write [\"program\", \"arg\", …]"
                     : std::string());
    return;
  }
  const DatumList& items = value.list();
  if (items.empty()) {
    p.bad_value(where, in_quotes(field) + " is empty", "name a program and its arguments");
    return;
  }
  for (size_t k = 0; k < items.size(); ++k) {
    auto at = [&] { return field + "[" + std::to_string(k) + "]"; };
    if (!is_scalar(items[k])) {
      p.wrong_type(where, at(), "a string", items[k]);
    } else if (items[k].is_string() && items[k].str().find('\0') != std::string::npos) {
      p.bad_value(where, in_quotes(at()) + " holds a NUL character", "remove it");
    } else if (k == 0 && items[k].is_string() && items[k].str().empty()) {
      p.bad_value(where, in_quotes(at()) + ", the program, is empty", "name the program to run");
    }
  }
}

void check_env(FieldProblems& p, const std::string& where, const std::string& field,
               const Datum& value) {
  if (!value.is_record()) {
    p.wrong_type(where, field, describe(FieldType::env), value);
    return;
  }
  for (const auto& [name, v] : value.record()) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      p.bad_value(
          where,
          in_quotes(field) + " has a variable name that is empty or holds '=': \"" + name + "\"",
          "rename the variable");
    } else if (!is_scalar(v)) {
      p.wrong_type(where, field + "." + name, "a string", v);
    } else if (v.is_string() && v.str().find('\0') != std::string::npos) {
      p.bad_value(where, in_quotes(field + "." + name) + " holds a NUL character", "remove it");
    }
  }
}

void check_mode(FieldProblems& p, const std::string& where, const std::string& field,
                const Datum& value) {
  int64_t bits = -1;
  if (const int64_t* n = std::get_if<int64_t>(&value.v)) {
    bits = *n;
  } else if (value.is_string()) {
    std::string s = value.str();
    if (s.rfind("0o", 0) == 0) s.erase(0, 2);
    if (!s.empty() && s.size() <= 4 &&
        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; }))
      bits = std::stoll(s, nullptr, 8);
  } else {
    p.wrong_type(where, field, describe(FieldType::mode), value);
    return;
  }
  if (bits < 0 || bits > 0777)
    p.bad_value(where,
                in_quotes(field) + " " + to_display(value) + " is not " + describe(FieldType::mode),
                "write the mode like \"0644\"");
}

void check_field(FieldProblems& p, const std::string& where, const std::string& field, FieldType type,
                 const Datum& value) {
  // A whole placeholder takes its value's type when the operation starts, and is checked then.
  if (value.is_string() && is_whole_placeholder(value.str())) return;
  switch (type) {
    case FieldType::any:
      return;
    case FieldType::output:
      if (!value.is_string()) return p.wrong_type(where, field, describe(type), value);
      if (value.str() != "text" && value.str() != "json")
        return p.bad_value(where, in_quotes(field) + " \"" + value.str() + "\" is not " + describe(type),
                           "write output = \"json\" to have stdout parsed as JSON, or leave it out for text");
      return;
    case FieldType::code:
      if (closure_reference_index(value)) return;
      return check_field(p, where, field, FieldType::name, value);
    case FieldType::argv:
      return check_argv(p, where, field, value);
    case FieldType::env:
      return check_env(p, where, field, value);
    case FieldType::mode:
      return check_mode(p, where, field, value);
    case FieldType::text:
    case FieldType::name:
    case FieldType::key:
      if (!value.is_string()) return p.wrong_type(where, field, describe(type), value);
      if (type == FieldType::name && value.str().empty())
        return p.bad_value(where, in_quotes(field) + " is empty",
                           "give " + in_quotes(field) + " a value");
      if (type == FieldType::key && !parse_key(value.str()))
        return p.bad_value(where,
                           in_quotes(field) + " \"" + value.str() + "\" is not " + describe(type),
                           "separate the key's members with single dots; quote members that "
                           "hold dots");
      return;
    case FieldType::server: {
      if (!value.is_record()) return p.wrong_type(where, field, describe(type), value);
      const Datum* name = member(value, "name");
      if (!name) return p.missing(where, field + ".name", "name the server in " + in_quotes(field));
      return check_field(p, where, field + ".name", FieldType::name, *name);
    }
  }
}

namespace {

/// Keeps the first problem, as the WorkflowError the parser would have made of it.
class FirstProblem : public FieldProblems {
 public:
  void wrong_type(const std::string& where, std::string_view field, std::string_view wanted, const Datum& got,
                  std::string extra_help) override {
    keep("wrong_type", where + ": " + in_quotes(field) + " must be " + std::string(wanted) + ", got " + got.type_name(),
         extra_help.empty() ? "change " + in_quotes(field) + " to " + std::string(wanted) : std::move(extra_help));
  }
  void bad_value(const std::string& where, const std::string& what, std::string help) override {
    keep("bad_value", where + ": " + what, std::move(help));
  }
  void missing(const std::string& where, std::string_view field, std::string help) override {
    keep("missing_field", where + ": missing field " + in_quotes(field), std::move(help));
  }
  void throw_if_any() const {
    if (first_) throw *first_;
  }

 private:
  void keep(const char* code, std::string message, std::string help) {
    if (!first_) first_ = WorkflowError(std::string("provisioning::workflow::") + code, message, std::move(help));
  }
  std::optional<WorkflowError> first_;
};

}  // namespace

void check_declared_fields(const OperationSpec& op) {
  const KindDecl* kind = find_kind_decl(op.kind);
  if (!kind) throw WorkflowError("provisioning::workflow::unknown_kind", "operation '" + op.id + "': unknown kind '" + op.kind + "'");
  FirstProblem p;
  const std::string where = "operation '" + op.id + "'";
  for (const FieldDecl& f : kind->fields) {
    const Datum* value = op.fields.is_record() ? member(op.fields, f.name) : nullptr;
    if (value)
      check_field(p, where, std::string(f.name), f.type, *value);
    else if (f.required)
      p.missing(where, f.name, "a " + op.kind + " operation needs " + in_quotes(f.name) + ": " + describe(f.type));
  }
  p.throw_if_any();
}

}  // namespace prov
