#include "core/graph/references.hpp"

#include <algorithm>
#include <charconv>

#include "core/support/datum_json.hpp"
#include "core/support/nearest.hpp"
#include "core/support/placeholders.hpp"

namespace prov {

namespace {

/// Fields that are the workflow's, not the kind's: never looked into.
const std::vector<std::string> kNotReferenced = {"id", "kind", "depends_on", "retry", "timeout"};

WorkflowError bad_reference(const std::string& message, std::string help) {
  return WorkflowError("provisioning::workflow::bad_reference", message, std::move(help), Blame::input());
}

std::string did_you_mean(const std::string& wrong, const std::vector<std::string>& known, std::string otherwise) {
  const std::vector<std::string> near = nearest_names(wrong, known, 1);
  if (!near.empty()) return "did you mean " + near.front() + "?";
  return otherwise;
}

using Piece = TextPiece;

const char* kSyntax =
    "a placeholder is {{ops.<id>.out}}, {{ops.<id>.out.<path>}}, {{ops.<id>.exit_code}}, {{config.<key>}}, "
    "{{env.<NAME>}} or {{vars.<name>}}; write \\{{ for a literal {{";

std::vector<Piece> split(const std::string& text, const std::string& where, const std::string& field) {
  SplitText s = split_placeholders(text);
  if (s.unterminated_at)
    throw bad_reference(where + ": field '" + field + "' has a placeholder with no closing }}: \"" +
                            text.substr(*s.unterminated_at, 40) + "\"",
                        kSyntax);
  if (s.empty_placeholder)
    throw bad_reference(where + ": field '" + field + "' has an empty placeholder {{}}", kSyntax);
  return std::move(s.pieces);
}

Reference read_reference(const std::string& inside, const std::vector<RootAlias>& aliases, const std::string& where,
                         const std::string& field) {
  std::optional<KeyPath> path = parse_key(inside);
  if (!path || path->empty())
    throw bad_reference(where + ": field '" + field + "' has a malformed placeholder {{" + inside + "}}", kSyntax);
  Reference r;
  r.text = inside;
  r.root = path->front();
  r.path.assign(path->begin() + 1, path->end());
  for (const RootAlias& a : aliases) {
    if (a.root != r.root) continue;
    r.root = a.target;
    if (!a.insert.empty() && !r.path.empty()) r.path.insert(r.path.begin() + 1, a.insert);
    break;
  }
  return r;
}

bool skipped(const std::string& key, bool top) {
  return top && std::find(kNotReferenced.begin(), kNotReferenced.end(), key) != kNotReferenced.end();
}

std::string member_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

/// Calls `f(field, string)` for each string in `d`, depth first.
template <class F>
void each_string(const Datum& d, const std::string& field, bool top, F&& f) {
  if (d.is_string()) {
    f(field, d.str());
  } else if (d.is_record()) {
    for (const auto& [k, v] : d.record())
      if (!skipped(k, top)) each_string(v, member_path(field, k), false, f);
  } else if (d.is_list()) {
    const DatumList& l = d.list();
    for (size_t k = 0; k < l.size(); ++k) each_string(l[k], member_path(field, std::to_string(k)), false, f);
  }
}

std::string as_text(const Datum& v) {
  if (v.is_string()) return v.str();
  if (v.is_record() || v.is_list()) return encode_json(v);
  return to_display(v);
}

Datum resolve_value(const Datum& d, const std::string& field, bool top, const ReferenceLookup& lookup,
                    const std::string& where, const std::vector<RootAlias>& aliases) {
  if (d.is_string()) {
    const std::string& s = d.str();
    if (s.find("{{") == std::string::npos) return d;
    const std::vector<Piece> pieces = split(s, where, field);
    if (pieces.size() == 1 && pieces[0].placeholder)
      return lookup(read_reference(pieces[0].text, aliases, where, field));
    std::string out;
    for (const Piece& p : pieces)
      out += p.placeholder ? as_text(lookup(read_reference(p.text, aliases, where, field))) : p.text;
    return out;
  }
  if (d.is_record()) {
    DatumRecord out;
    out.reserve(d.record().size());
    for (const auto& [k, v] : d.record())
      out.emplace_back(k, skipped(k, top) ? v : resolve_value(v, member_path(field, k), false, lookup, where, aliases));
    return out;
  }
  if (d.is_list()) {
    DatumList out;
    out.reserve(d.list().size());
    for (size_t k = 0; k < d.list().size(); ++k)
      out.push_back(resolve_value(d.list()[k], member_path(field, std::to_string(k)), false, lookup, where, aliases));
    return out;
  }
  return d;
}

std::optional<size_t> list_index(const std::string& s) {
  size_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

const std::vector<std::string>& reference_roots() {
  static const std::vector<std::string> roots = {"ops", "config", "env", "vars"};
  return roots;
}

bool is_whole_placeholder(const std::string& text) {
  if (text.size() < 4 || text.compare(0, 2, "{{") != 0) return false;
  const size_t close = text.find("}}", 2);
  return close == text.size() - 2;
}

std::vector<FieldReference> find_references(const Datum& fields, const std::string& where,
                                            const std::vector<RootAlias>& aliases) {
  std::vector<FieldReference> out;
  each_string(fields, "", true, [&](const std::string& field, const std::string& s) {
    if (s.find("{{") == std::string::npos) return;
    for (const Piece& p : split(s, where, field))
      if (p.placeholder) out.push_back({field, read_reference(p.text, aliases, where, field)});
  });
  return out;
}

Datum resolve_references(const Datum& fields, const ReferenceLookup& lookup, const std::string& where,
                         const std::vector<RootAlias>& aliases) {
  return resolve_value(fields, "", true, lookup, where, aliases);
}

Datum value_at(const Datum& value, const KeyPath& path, size_t from, const Reference& ref, const std::string& where) {
  const Datum* at = &value;
  for (size_t k = from; k < path.size(); ++k) {
    const std::string& m = path[k];
    const std::string reached =
        "{{" + ref.root + "." + render_key(KeyPath(ref.path.begin(), ref.path.begin() + k)) + "}}";
    if (at->is_record()) {
      const Datum* next = at->find(m);
      if (!next) {
        std::vector<std::string> keys;
        for (const auto& [key, v] : at->record()) keys.push_back(key);
        throw bad_reference(
            where + ": {{" + ref.text + "}}: " + reached + " has no member '" + m + "'",
            did_you_mean(m, keys, keys.empty() ? "it is an empty record" : "it has " + join_alternatives(keys)));
      }
      at = next;
    } else if (at->is_list()) {
      const std::optional<size_t> i = list_index(m);
      if (!i || *i >= at->list().size())
        throw bad_reference(where + ": {{" + ref.text + "}}: " + reached + " is a list of " +
                                std::to_string(at->list().size()) + ", with no member '" + m + "'",
                            "index it from 0 to " + std::to_string(at->list().size()) + " - 1");
      at = &at->list()[*i];
    } else {
      throw bad_reference(where + ": {{" + ref.text + "}}: " + reached + " is " + at->a_type_name() +
                              ", which has no member '" + m + "'",
                          "reference " + reached + " itself");
    }
  }
  return *at;
}

std::vector<size_t> check_references(const std::vector<FieldReference>& refs, size_t self, const ReferenceScope& scope,
                                     const std::string& where, const std::function<void(WorkflowError)>& problem) {
  std::vector<size_t> used;
  for (const FieldReference& fr : refs) {
    const Reference& r = fr.ref;
    const std::string at = where + ": field '" + fr.field + "': {{" + r.text + "}}";
    auto report = [&](const std::string& what, std::string help) {
      problem(bad_reference(at + " " + what, std::move(help)));
    };
    if (std::find(reference_roots().begin(), reference_roots().end(), r.root) == reference_roots().end()) {
      report("has an unknown root '" + r.root + "'", did_you_mean(r.root, reference_roots(), kSyntax));
      continue;
    }
    if (r.path.empty()) {
      report("names no member of " + r.root, kSyntax);
      continue;
    }
    if (r.root == "vars") {
      const Datum* value = scope.vars && scope.vars->is_record() ? scope.vars->find(r.path[0]) : nullptr;
      if (!value) {
        std::vector<std::string> names;
        if (scope.vars && scope.vars->is_record())
          for (const auto& [k, v] : scope.vars->record()) names.push_back(k);
        report("names a variable that is not set",
               did_you_mean(r.path[0], names,
                            "set it in the workflow's `vars` table or with --vars" +
                                (names.empty() ? std::string() : " (set: " + join_alternatives(names) + ")")));
        continue;
      }
      try {
        value_at(*value, r.path, 1, r, at);
      } catch (const WorkflowError& e) {
        problem(e);
      }
      continue;
    }
    if (r.root != "ops") continue;  // config and env are known when it runs
    const std::string& id = r.path[0];
    const std::optional<size_t> i = scope.index(id);
    if (!i) {
      std::vector<std::string> ids;
      for (const OperationSpec& o : scope.spec.operations) ids.push_back(o.id);
      report("names an operation that is not in this workflow",
             did_you_mean(id, ids, "reference an operation by its id"));
      continue;
    }
    if (*i == self) {
      report("references the operation itself", "an operation can reference the results of others only");
      continue;
    }
    const std::string& what = r.path.size() > 1 ? r.path[1] : std::string();
    if (what != "out" && what != "exit_code") {
      report(what.empty() ? "names no part of the result" : "names '" + what + "', which a result does not have",
             did_you_mean(what, {"out", "exit_code"}, "write {{ops." + id + ".out}} or {{ops." + id + ".exit_code}}"));
      continue;
    }
    const std::string& kind = scope.spec.operations[*i].kind;
    if (what == "exit_code") {
      if (!scope.has_exit_code(*i))
        report("asks for an exit_code, which a " + kind + " operation does not have",
               "reference {{ops." + id + ".out}} instead");
      else if (r.path.size() > 2)
        report("reads a member of an exit code, which is an int", "reference {{ops." + id + ".exit_code}} itself");
      else if (std::find(used.begin(), used.end(), *i) == used.end())
        used.push_back(*i);
      continue;
    }
    const OutShape shape = scope.out_shape(*i);
    if (r.path.size() > 2) {
      if (shape.form == OutShape::text) {
        report("reads a member of the out of " + kind + " operation '" + id + "', which is text",
               kind == "command" ? "set output = \"json\" on '" + id + "' to have its stdout parsed"
                                 : "reference {{ops." + id + ".out}} itself");
        continue;
      }
      if (shape.form == OutShape::record && !shape.open &&
          std::find(shape.keys.begin(), shape.keys.end(), r.path[2]) == shape.keys.end()) {
        report("reads '" + r.path[2] + "', which the out of a " + kind + " operation does not have",
               did_you_mean(r.path[2], shape.keys, "it has " + join_alternatives(shape.keys)));
        continue;
      }
    }
    if (std::find(used.begin(), used.end(), *i) == used.end()) used.push_back(*i);
  }
  return used;
}

}  // namespace prov
