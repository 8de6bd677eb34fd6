#pragma once
/// References in an operation's string fields to what is known when it starts (DESIGN.md,
/// "Outputs and references"):
///
///   {{ops.<id>.out}}, {{ops.<id>.out.<path>}}  the journaled result of another operation
///   {{ops.<id>.exit_code}}                      its process's exit status
///   {{config.<key>}}  {{env.<NAME>}}  {{vars.<name>}}
///
/// Path members are record keys or list indexes (`{{ops.mk.out.ports.0}}`). A string that is
/// exactly one placeholder takes the value with its type; inside longer text a value becomes
/// text (records and lists as JSON). `\{{` stands for a literal `{{`. Roots other callers add
/// (`servers.<name>.<field>`) map onto these with a RootAlias.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config/key_path.hpp"
#include "core/graph/workflow.hpp"
#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov {

/// The roots a placeholder may start with.
const std::vector<std::string>& reference_roots();

/// One placeholder: its root and the path below it.
struct Reference {
  std::string root;  ///< ops, config, env, vars (after aliases)
  KeyPath path;      ///< for ops: {id, "out"|"exit_code", members…}
  std::string text;  ///< what was written between the braces, trimmed
};

/// A placeholder and the field holding it (`run.2`, `server.ports.0`).
struct FieldReference {
  std::string field;
  Reference ref;
};

/// A root that stands for a path under another: {servers, ops, out} reads
/// `{{servers.api.ports.0}}` as `{{ops.api.out.ports.0}}`.
struct RootAlias {
  std::string root, target, insert;
};

/// Every placeholder in the strings of `fields` (an operation's record; `id`, `kind`,
/// `depends_on`, `retry` and `timeout` are not looked into). `where` names the operation.
/// Throws WorkflowError `provisioning::workflow::bad_reference` for a malformed placeholder
/// (unterminated, empty, a bad path) naming the field.
std::vector<FieldReference> find_references(const Datum& fields, const std::string& where,
                                            const std::vector<RootAlias>& aliases = {});

/// True when `text` is exactly one placeholder (its value keeps its type).
bool is_whole_placeholder(const std::string& text);

/// What a placeholder stands for; throws WorkflowError when it stands for nothing.
using ReferenceLookup = std::function<Datum(const Reference&)>;

/// `fields` with every placeholder replaced through `lookup` (the fields find_references looks
/// into). Throws what `lookup` throws, or WorkflowError `provisioning::workflow::bad_reference`.
Datum resolve_references(const Datum& fields, const ReferenceLookup& lookup, const std::string& where,
                         const std::vector<RootAlias>& aliases = {});

/// The value at `path` (from `from` on) inside `value`, for a placeholder `ref` of `where`;
/// throws WorkflowError `provisioning::workflow::bad_reference` naming the member that is
/// missing, with did-you-mean.
Datum value_at(const Datum& value, const KeyPath& path, size_t from, const Reference& ref, const std::string& where);

/// What an operation's `out` is known to look like before it runs (its kind's declaration).
struct OutShape {
  enum Form { text, record, any } form = any;
  std::vector<std::string> keys;  ///< for `record`: the keys it has (others may follow)
  bool open = false;              ///< for `record`: keys beyond `keys` may be there
};

/// What a static check of references needs of the workflow.
struct ReferenceScope {
  const WorkflowSpec& spec;
  /// The index of an operation id, or nullopt.
  std::function<std::optional<size_t>(const std::string&)> index;
  /// The shape of operation i's out, and whether it has an exit_code.
  std::function<OutShape(size_t)> out_shape;
  std::function<bool(size_t)> has_exit_code;
  const Datum* vars = nullptr;  ///< the workflow's `vars` record (null: none)
};

/// The operations `refs` (of operation `self`) reference, without repeats; reports each
/// reference that cannot resolve (an unknown operation, variable or root, a path its producer
/// cannot have, an operation referencing itself) to `problem` with did-you-mean.
std::vector<size_t> check_references(const std::vector<FieldReference>& refs, size_t self, const ReferenceScope& scope,
                                     const std::string& where, const std::function<void(WorkflowError)>& problem);

}  // namespace prov
