#pragma once
/// The operation kinds and the fields each one takes, declared once: the workflow parser checks
/// documents against it, each kind's validation checks its operations against it, and help
/// lists it. One list of kinds; OpKind (op_kind.hpp) acts on them.

#include <string>
#include <string_view>
#include <vector>

#include "core/graph/references.hpp"
#include "core/graph/workflow.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// What a kind-specific field must hold.
enum class FieldType {
  text,    ///< any string
  name,    ///< a non-empty string
  argv,    ///< a non-empty list of scalars, the first non-empty: a program and its arguments
  env,     ///< a record of scalars keyed by variable names
  any,     ///< anything but null
  mode,    ///< permission bits: an octal string or an int, at most 0o777
  key,     ///< a dotted configuration key
  server,  ///< a record with a non-empty `name`: a ServerSpec
  code,    ///< Nu code: a non-empty string, or a closure reference
  output,  ///< how a command's stdout becomes its result: "text" or "json"
};

/// How a value of `type` is described in messages and help ("a non-empty string").
const char* describe(FieldType type);

/// One field of a kind.
struct FieldDecl {
  std::string_view name;
  FieldType type;
  bool required;
};

/// One kind: its name as workflows write it in `kind`, its fields, and what its result holds.
struct KindDecl {
  std::string_view name;
  std::vector<FieldDecl> fields;
  OutShape out;            ///< its result's `out` (DESIGN.md, "Outputs and references")
  bool exit_code = false;  ///< its result has an `exit_code`
};

/// The shape of `op`'s out: its kind's, or anything for a command with output = "json".
OutShape out_shape(const OperationSpec& op);

/// Every operation kind, in the order DESIGN.md lists them.
const std::vector<KindDecl>& kind_decls();
/// The kind called `name`; nullptr when there is none.
const KindDecl* find_kind_decl(std::string_view name);
/// "command (run*, env, cwd, stdin, rollback)": a kind and its fields, required ones starred.
std::string kind_synopsis(const KindDecl& kind);

/// Where the problems of checking fields go: the parser gathers them all, an operation's
/// validation throws the first.
class FieldProblems {
 public:
  virtual ~FieldProblems() = default;
  /// `where: 'field' must be …, got …`
  virtual void wrong_type(const std::string& where, std::string_view field, std::string_view wanted,
                          const Datum& got, std::string extra_help = {}) = 0;
  virtual void bad_value(const std::string& where, const std::string& what, std::string help) = 0;
  virtual void missing(const std::string& where, std::string_view field, std::string help) = 0;
};

/// Checks `value`, the field `field` of an operation (`where` names it), against `type`.
void check_field(FieldProblems& p, const std::string& where, const std::string& field, FieldType type,
                 const Datum& value);

/// Checks `op`'s fields against its kind's declaration: each declared field present is of its
/// type, each required one is present (null counts as absent). Throws the first problem as a
/// WorkflowError (`provisioning::workflow::wrong_type`, `::bad_value` or `::missing_field`).
/// Fields the kind does not declare are the parser's to refuse.
void check_declared_fields(const OperationSpec& op);

}  // namespace prov
