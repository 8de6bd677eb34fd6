#include "core/engine/preflight.hpp"

#include <algorithm>

#include "core/graph/workflow_parse.hpp"
#include "core/ops/nu_syntax.hpp"
#include "core/ops/workspace_path.hpp"
#include "core/providers/catalog.hpp"
#include "core/support/error.hpp"
#include "core/support/limits.hpp"

namespace prov {

namespace {

const std::string* string_field(const Datum& op, const char* name) {
  const Datum* d = op.find(name);
  return d && d->is_string() ? &d->str() : nullptr;
}

/// The problems of the operations (their records, in order; nullptr for one that is not a
/// record) that only the workspace can show, in the order of the operations.
void check_operations(const std::vector<const Datum*>& ops, const PreflightContext& ctx, std::vector<Error>& out) {
  std::optional<ProviderCatalog> catalog;
  std::vector<NuCode> codes;
  std::vector<std::pair<size_t, std::string>> code_owner;  ///< operation index, "operation 'x': `code`"
  std::vector<std::pair<size_t, Error>> problems;  ///< by operation index
  for (size_t index = 0; index < ops.size(); ++index) {
    if (!ops[index] || !ops[index]->is_record()) continue;
    const Datum& op = *ops[index];
    const std::string* kind = string_field(op, "kind");
    const std::string* id_field = string_field(op, "id");
    if (!kind) continue;
    const std::string where = "operation '" + (id_field ? *id_field : std::string("?")) + "'";
    auto add = [&](const Error& e) {
      problems.emplace_back(index, Error(e.code(), where + ": " + e.what(), e.help(), Blame::input()));
    };
    if (*kind == "file.write") {
      if (const std::string* path = string_field(op, "path")) try {
          resolve_in_workspace(ctx.workspace, *path);
        } catch (const Error& e) {
          add(e);
        }
    } else if (*kind == "server.create" || *kind == "server.delete") {
      try {
        if (!catalog) catalog = ProviderCatalog::discover(*ctx.config, ctx.workspace);
        const std::string* named = string_field(op, "provider");
        catalog->require(named ? *named : catalog->default_name());
      } catch (const Error& e) {
        add(e);
      }
    } else if (*kind == "nu" && !ctx.nu_path.empty()) {
      const std::string* cwd = string_field(op, "cwd");
      const std::string dir = !cwd ? ctx.workspace : (!cwd->empty() && (*cwd)[0] == '/') ? *cwd : ctx.workspace + "/" + *cwd;
      for (const char* field : {"code", "rollback"})
        if (const std::string* code = string_field(op, field); code && !code->empty()) {
          codes.push_back({*code, dir});
          code_owner.emplace_back(index, where + ": `" + field + "`");
        }
    }
  }
  if (!codes.empty()) try {
      const std::vector<std::string> found = nu_parse_errors(ctx.nu_path, codes);
      for (size_t i = 0; i < found.size(); ++i)
        if (!found[i].empty())
          problems.emplace_back(code_owner[i].first,
                                Error("provisioning::workflow::nu_parse",
                                      code_owner[i].second + " is not valid Nu: " + found[i],
                                      "fix the code; `nu-check` shows the same problem", Blame::input()));
    } catch (const Error& e) {
      problems.emplace_back(code_owner.front().first, Error(e.code(), e.what(), e.help(), Blame::input()));
    }
  std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [index, e] : problems) out.push_back(std::move(e));
}

}  // namespace

namespace {

/// The preflight of a workflow whose process limits were checked: `name` its name (or ""),
/// `records` its operations' records, `parse` what parses it over the settings it is given.
template <class Parse>
WorkflowSpec preflight_checked(const std::string& name, const std::vector<const Datum*>& records, Parse&& parse,
                               const std::string& origin, const PreflightContext& ctx) {
  std::vector<Error> problems;
  WorkflowSettings base;
  try {
    base = workspace_settings(*ctx.config);
  } catch (const Error& e) {
    problems.push_back(e);
  }
  // Before parsing, which may move the operations out of the document.
  std::vector<Error> operation_problems;
  check_operations(records, ctx, operation_problems);
  std::optional<WorkflowSpec> spec;
  try {
    spec = parse(base);
  } catch (const Error& e) {
    if (e.code() == "provisioning::workflow::invalid") problems.insert(problems.end(), e.related().begin(), e.related().end());
    else problems.push_back(e);
  }
  problems.insert(problems.end(), operation_problems.begin(), operation_problems.end());
  if (problems.empty()) return std::move(*spec);
  if (problems.size() == 1) throw problems.front();
  WorkflowError all("provisioning::workflow::invalid",
                    (name.empty() ? "workflow from " : "workflow '" + name + "' from ") + origin + " has " +
                        std::to_string(problems.size()) + " problems",
                    "fix each problem listed with it; each has its own code and help", Blame::input());
  all.with_related(std::move(problems));
  throw all;
}

std::string workflow_name(const Datum& doc) {
  const std::string* n = doc.is_record() ? string_field(doc, "name") : nullptr;
  return n ? *n : std::string();
}

template <class Doc>
WorkflowSpec preflight(Doc&& doc, const std::string& origin, const PreflightContext& ctx, Dag* dag) {
  // Over a limit, nothing else is looked at: the limits keep the rest from costing too much.
  check_workflow_limits(doc, origin, Limits::process());
  check_workflow_limits(doc, origin, Limits::process().with_config(*ctx.config));
  std::vector<const Datum*> records;
  if (const Datum* ops = doc.is_record() ? doc.find("operations") : nullptr; ops && ops->is_list())
    for (const Datum& op : ops->list()) records.push_back(&op);
  return preflight_checked(
      workflow_name(doc), records,
      [&](const WorkflowSettings& base) { return parse_workflow(std::forward<Doc>(doc), origin, dag, base); }, origin,
      ctx);
}

}  // namespace

const std::vector<std::string>& preflight_fields() {
  static const std::vector<std::string> fields = {"path", "provider", "cwd", "code", "rollback"};
  return fields;
}

WorkflowSpec preflight_workflow(const Datum& doc, const std::string& origin, const PreflightContext& ctx, Dag* dag) {
  return preflight(doc, origin, ctx, dag);
}

WorkflowSpec preflight_workflow(Datum&& doc, const std::string& origin, const PreflightContext& ctx, Dag* dag) {
  return preflight(std::move(doc), origin, ctx, dag);
}

WorkflowSpec preflight_workflow_file(WorkflowFile&& file, const std::string& origin, const PreflightContext& ctx,
                                     Dag* dag) {
  bool whole = !file.streamed || file.exceeds(Limits::process());
  if (!whole) try {
      whole = file.exceeds(Limits::process().with_config(*ctx.config));
    } catch (const Error&) {
      whole = true;  // the whole document's preflight says what is wrong with the limits
    }
  if (whole) return preflight(whole_document(std::move(file)), origin, ctx, dag);
  const std::string name = workflow_name(file.document);
  const std::vector<const Datum*> records = file.operation_records();
  return preflight_checked(
      name, records,
      [&](const WorkflowSettings& base) { return parse_workflow_file(std::move(file), origin, dag, base); }, origin,
      ctx);
}

}  // namespace prov
