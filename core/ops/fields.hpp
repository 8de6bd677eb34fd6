#pragma once
/// Reading the kind-specific fields of an operation with errors that name the operation and
/// the field, so that a workflow author knows what to fix.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph/workflow.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

/// Typed access to `op.fields`. Every getter throws WorkflowError
/// `provisioning::workflow::invalid_field` when the field is missing (where required) or of the
/// wrong type. A field set to null counts as absent.
class Fields {
 public:
  explicit Fields(const OperationSpec& op) : op_(op) {}

  /// The field's value; nullptr when absent.
  const Datum* get(std::string_view name) const;
  /// A string field.
  std::string string(std::string_view name) const;
  std::optional<std::string> optional_string(std::string_view name) const;
  /// A non-empty list of scalars, as text ("sleep", 1 → "sleep", "1"): an argv.
  std::vector<std::string> argv(std::string_view name) const;
  std::optional<std::vector<std::string>> optional_argv(std::string_view name) const;
  /// A record of scalars, as text; empty when absent.
  Environment env(std::string_view name) const;

  /// Throws the invalid_field error for `name`, saying `what` is wrong with it.
  [[noreturn]] void invalid(std::string_view name, const std::string& what) const;

 private:
  const OperationSpec& op_;
};

}  // namespace prov
