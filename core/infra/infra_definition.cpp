#include "core/infra/infra_definition.hpp"

#include <algorithm>
#include <map>

#include "core/config/toml_file.hpp"
#include "core/graph/dag.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/infra/infra_refs.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace {

const std::vector<std::string> kTopFields = {"vars", "servers"};

/// Problems found so far; all of them are thrown at once.
struct Problems {
  std::string origin;
  std::vector<ConfigError> found;

  void add(const std::string& code, const std::string& what, const std::string& help) {
    found.emplace_back(code, origin + ": " + what, help);
  }
  void unknown(const std::string& where, const std::string& field, const std::vector<std::string>& known,
               const std::string& code = "provisioning::infra::unknown_field") {
    const auto near = nearest_names(field, known);
    add(code, where + "`" + field + "` is not known",
        near.empty() ? "known: " + join_alternatives(known) : "did you mean " + join_alternatives(near) + "?");
  }
  void wrong_type(const std::string& field, const std::string& expected, const Datum& got) {
    add("provisioning::infra::wrong_type", "`" + field + "` must be " + expected + ", not " + got.a_type_name(),
        "a server's fields: provider (string), depends_on (list of names), plan (string), labels (record), "
        "command (list), env (record), cwd (string), ports (list)");
  }
  [[noreturn]] void raise() {
    ConfigError first = found.front();
    std::vector<Error> rest(found.begin() + 1, found.end());
    first.with_related(std::move(rest));
    throw first;
  }
};

bool good_name(const std::string& n) {
  if (n.empty() || n.size() > 100 || n.front() == '.' || n.front() == '-') return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

/// The type `field` must have; checks one value (a string holding a reference passes anywhere a
/// scalar does).
void check_field(Problems& p, const std::string& path, const std::string& field, const Datum& v) {
  auto is_str = [](const Datum& d) { return d.is_string(); };
  if (field == "provider" || field == "plan" || field == "cwd") {
    if (!is_str(v)) p.wrong_type(path, "a string", v);
  } else if (field == "labels" || field == "env") {
    if (!v.is_record()) p.wrong_type(path, "a record", v);
  } else if (field == "command") {
    if (!v.is_list())
      p.wrong_type(path, "a list of strings", v);
    else
      for (size_t i = 0; i < v.list().size(); ++i)
        if (v.list()[i].is_record() || v.list()[i].is_list())
          p.wrong_type(path + "." + std::to_string(i), "a string", v.list()[i]);
  } else if (field == "ports") {
    if (!v.is_list())
      p.wrong_type(path, "a list of ints", v);
    else
      for (size_t i = 0; i < v.list().size(); ++i)
        if (!std::holds_alternative<int64_t>(v.list()[i].v) && !v.list()[i].is_string())
          p.wrong_type(path + "." + std::to_string(i), "an int (or a reference)", v.list()[i]);
  } else if (field == "depends_on") {
    if (!v.is_list())
      p.wrong_type(path, "a list of server names", v);
    else
      for (size_t i = 0; i < v.list().size(); ++i)
        if (!v.list()[i].is_string()) p.wrong_type(path + "." + std::to_string(i), "a server name", v.list()[i]);
  }
}

}  // namespace

const std::vector<std::string>& infra_server_fields() {
  static const std::vector<std::string> fields = {"provider", "depends_on", "plan", "labels",
                                                  "command",  "env",        "cwd",  "ports"};
  return fields;
}

const InfraServer* InfraDefinition::find(const std::string& name) const {
  for (const auto& s : servers)
    if (s.name == name) return &s;
  return nullptr;
}

InfraDefinition parse_infra_definition(const Datum& doc, const std::string& origin) {
  Problems p{origin, {}};
  InfraDefinition def;
  def.origin = origin;
  if (!doc.is_record())
    throw ConfigError("provisioning::infra::wrong_type",
                      origin + ": an infrastructure definition must be a record, not " + doc.a_type_name(),
                      "it has [vars] and [servers.<name>] tables");
  for (const auto& [key, v] : doc.record())
    if (std::find(kTopFields.begin(), kTopFields.end(), key) == kTopFields.end()) p.unknown("", key, kTopFields);
  if (const Datum* vars = doc.find("vars")) {
    if (vars->is_record())
      def.vars = vars->record();
    else
      p.wrong_type("vars", "a record", *vars);
  }
  std::vector<InfraServer> declared;
  if (const Datum* servers = doc.find("servers")) {
    if (!servers->is_record())
      p.wrong_type("servers", "a record of servers by name", *servers);
    else
      for (const auto& [name, body] : servers->record()) {
        const std::string at = "servers." + name;
        if (!good_name(name))
          p.add("provisioning::infra::bad_name", "`" + at + "`: a server name is letters, digits, `_`, `-` and `.`",
                "rename it, for example " + std::string("`web-1`"));
        if (!body.is_record()) {
          p.wrong_type(at, "a record (a ServerSpec with provider and depends_on)", body);
          continue;
        }
        InfraServer s;
        s.name = name;
        DatumRecord spec{{"name", Datum(name)}};
        for (const auto& [field, v] : body.record()) {
          const auto& known = infra_server_fields();
          if (std::find(known.begin(), known.end(), field) == known.end()) {
            p.unknown(at + ": ", field, known);
            continue;
          }
          check_field(p, at + "." + field, field, v);
          if (field == "provider") {
            if (v.is_string()) s.provider = v.str();
          } else if (field == "depends_on") {
            if (v.is_list())
              for (const Datum& d : v.list())
                if (d.is_string()) s.depends_on.push_back(d.str());
          } else {
            spec.emplace_back(field, v);
          }
        }
        s.spec = Datum(std::move(spec));
        declared.push_back(std::move(s));
      }
  }
  std::vector<std::string> names;
  for (const auto& s : declared) names.push_back(s.name);
  std::vector<std::string> var_names;
  for (const auto& [k, v] : def.vars) var_names.push_back(k);
  // References: each must name a variable or a declared server; a server reference is a dependency.
  for (auto& s : declared) {
    std::vector<std::string> deps;
    for (const auto& d : s.depends_on) {
      if (std::find(names.begin(), names.end(), d) == names.end())
        p.unknown("servers." + s.name + ".depends_on: ", d, names, "provisioning::infra::unknown_server");
      else if (std::find(deps.begin(), deps.end(), d) == deps.end())
        deps.push_back(d);
    }
    for (const InfraRef& r : infra_refs_in(s.spec)) {
      if (r.kind == InfraRef::Kind::var) {
        if (std::find(var_names.begin(), var_names.end(), r.name) == var_names.end())
          p.unknown("servers." + s.name + ": " + r.text + ": the variable ", r.name, var_names,
                    "provisioning::infra::unknown_var");
      } else if (std::find(names.begin(), names.end(), r.name) == names.end()) {
        p.unknown("servers." + s.name + ": " + r.text + ": the server ", r.name, names,
                  "provisioning::infra::unknown_server");
      } else if (std::find(deps.begin(), deps.end(), r.name) == deps.end()) {
        deps.push_back(r.name);
      }
    }
    s.depends_on = std::move(deps);
  }
  if (!p.found.empty()) p.raise();
  // Dependencies before dependents; a cycle is named.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < declared.size(); ++i) index[declared[i].name] = i;
  std::vector<std::vector<size_t>> deps(declared.size());
  for (size_t i = 0; i < declared.size(); ++i)
    for (const auto& d : declared[i].depends_on) deps[i].push_back(index[d]);
  const Dag dag = make_dag(std::move(deps));
  if (auto cycles = find_cycles(dag); !cycles.empty()) {
    std::string text;
    for (size_t i : cycles.front()) text += declared[i].name + " -> ";
    text += declared[cycles.front().front()].name;
    throw ConfigError("provisioning::infra::cycle", origin + ": servers depend on one another in a circle: " + text,
                      "drop one depends_on or reference of the circle");
  }
  const std::optional<Levels> levels = compute_levels(dag);
  for (size_t i : levels->order) def.servers.push_back(std::move(declared[i]));
  return def;
}

Datum load_infra_file(const std::string& path) {
  if (path.ends_with(".toml")) {
    std::optional<Datum> d = read_toml_file(path);
    if (!d)
      throw ConfigError("provisioning::infra::read", "no infrastructure definition at " + path,
                        "give a .toml or .json file, or pipe a record");
    return *d;
  }
  try {
    return load_workflow_file(path);  // the same JSON reader, keeping the key order
  } catch (Error& e) {
    throw ConfigError(e.code() == "provisioning::workflow::not_found" ? "provisioning::infra::read" : e.code(),
                      std::string(e.what()), "give a .toml or .json file, or pipe a record");
  }
}

}  // namespace prov
