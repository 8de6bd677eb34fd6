#pragma once
/// References inside an infrastructure definition: `{{vars.<name>}}` and
/// `{{servers.<name>.<field>[.<path>…]}}` in any string of a server's fields (path segments are
/// record keys or list indexes). A string that is exactly one reference takes the value with
/// its type; a reference inside longer text becomes text. Other placeholders (`{{config.…}}`,
/// `{{env.…}}`) are left as written, for the workflow engine.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

struct InfraRef {
  enum class Kind { var, server };
  Kind kind = Kind::var;
  std::string name;               ///< the variable or the server
  std::vector<std::string> path;  ///< for a server: the field, then deeper keys or indexes
  std::string text;               ///< the placeholder as written, braces included
};

/// Every vars/servers reference in the strings of `v`, in order.
std::vector<InfraRef> infra_refs_in(const Datum& v);

/// A reference's value, or nullopt when it is only known once the apply has run.
using InfraRefValue = std::function<std::optional<Datum>(const InfraRef&)>;
/// The text that stands for a reference known only after apply (a workflow placeholder).
using InfraRefLater = std::function<std::string(const InfraRef&)>;

struct ResolvedRefs {
  Datum value;
  bool known = true;  ///< false when some reference was only known after apply
};

/// `v` with every reference replaced by `value`'s answer, or by `later`'s text when unknown.
ResolvedRefs resolve_infra_refs(const Datum& v, const InfraRefValue& value, const InfraRefLater& later);

/// The value at `path` inside `d` (record keys, list indexes as decimal text); nullptr when none.
const Datum* datum_at(const Datum& d, const std::vector<std::string>& path);

}  // namespace prov
