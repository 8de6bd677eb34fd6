#pragma once
/// Helpers shared by the operation kinds' tests (not part of provcore's interface).

#include <fstream>
#include <sstream>
#include <string>

#include "core/events/op_log.hpp"
#include "core/graph/workflow.hpp"
#include "core/ops/op_kind.hpp"
#include "core/support/temp_dir.hpp"

namespace prov::testing {

/// An operation `id` of `kind` whose record holds `fields` (plus id and kind).
inline OperationSpec make_op(const std::string& kind, DatumRecord fields, const std::string& id = "op") {
  OperationSpec op;
  op.id = id;
  op.kind = kind;
  fields.insert(fields.begin(), {{"id", id}, {"kind", kind}});
  op.fields = std::move(fields);
  return op;
}

/// A context with `dir/ws` as the workspace (created) and `dir/op.log` as the log.
inline OpContext make_context(const TempDir& dir) {
  OpContext ctx;
  ctx.workspace = dir.mkdir("ws");
  ctx.log_path = dir / "op.log";
  ctx.kill_grace = Duration{200'000'000};
  return ctx;
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/// The output text an operation's log (op_log.hpp) at `path` holds.
inline std::string log_text(const std::string& path) { return op_log_text(slurp(path)); }

/// Runs `op` with its kind.
inline OpResult run_op(const OperationSpec& op, const OpContext& ctx) {
  return find_kind(op.kind)->run(op, ctx);
}

}  // namespace prov::testing
