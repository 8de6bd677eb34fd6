#include "core/graph/plan.hpp"

namespace prov {

Plan make_plan(const WorkflowSpec& spec, const Dag& dag) {
  std::optional<Levels> levels = compute_levels(dag);
  if (!levels) throw cycle_error(spec, find_cycles(dag).front());
  Plan plan;
  plan.order = std::move(levels->order);
  plan.level = std::move(levels->level);
  plan.depth = levels->depth;
  plan.steps.reserve(plan.order.size());
  for (size_t k = 0; k < plan.order.size(); ++k) {
    const size_t i = plan.order[k];
    const OperationSpec& op = spec.operations[i];
    PlanStep row{k + 1, plan.level[i], op.id, op.kind, {}};
    if (op.depends_on.size() == dag.deps[i].size()) {
      row.depends_on = op.depends_on;  // no repeats: the same ids, without a lookup each
    } else {
      row.depends_on.reserve(dag.deps[i].size());
      for (size_t d : dag.deps[i]) row.depends_on.push_back(spec.operations[d].id);
    }
    plan.steps.push_back(std::move(row));
  }
  return plan;
}

}  // namespace prov
