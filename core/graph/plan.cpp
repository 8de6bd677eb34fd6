#include "core/graph/plan.hpp"

namespace prov {

Plan make_plan(const WorkflowSpec& spec, const Dag& dag) {
  std::optional<Levels> levels = compute_levels(dag);
  if (!levels) throw cycle_error(spec, find_cycles(dag).front());
  return Plan{std::move(levels->order), std::move(levels->level), levels->depth};
}

PlanStep plan_step(const WorkflowSpec& spec, const Dag& dag, const Plan& plan, size_t k) {
  const size_t i = plan.order[k];
  const OperationSpec& op = spec.operations[i];
  PlanStep row{k + 1, plan.level[i], op.id, op.kind, {}, op.implicit_deps};
  if (op.depends_on.size() == dag.deps[i].size()) {
    row.depends_on = op.depends_on;  // no repeats: the same ids, without a lookup each
  } else {
    row.depends_on.reserve(dag.deps[i].size());
    for (size_t d : dag.deps[i]) row.depends_on.push_back(spec.operations[d].id);
  }
  return row;
}

}  // namespace prov
