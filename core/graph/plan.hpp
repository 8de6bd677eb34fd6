#pragma once
/// The plan of a workflow: the order its operations start in, by level, and the rows that
/// `prov workflow plan` shows. The scheduler breaks ties with the same order.

#include <cstddef>
#include <string>
#include <vector>

#include "core/graph/dag.hpp"
#include "core/graph/workflow.hpp"

namespace prov {

/// One row of a plan, for display: plan_step() makes them one at a time.
struct PlanStep {
  size_t step = 0;   ///< 1-based position in the plan's order
  size_t level = 0;  ///< longest dependency chain below the operation
  std::string id;
  std::string kind;
  std::vector<std::string> depends_on;  ///< ids, as written, without repeats, then the implicit ones
  std::vector<std::string> implicit;    ///< those of depends_on that only references make (not written)
};

/// A topological order of a workflow's operations with their levels.
struct Plan {
  std::vector<size_t> order;  ///< operation indices, ascending by level, then as written
  std::vector<size_t> level;  ///< level[i] of operation i
  size_t depth = 0;           ///< number of levels
};

/// The plan of `spec`, whose graph is `dag` (from make_dag(spec)). Throws cycle_error for the
/// first cycle when there is one (never for a spec from parse_workflow).
Plan make_plan(const WorkflowSpec& spec, const Dag& dag);

/// Row `k` (0-based, below plan.order.size()) of the plan that make_plan(spec, dag) gave.
/// Rows are made one at a time so that a large plan is shown without a copy of every id.
PlanStep plan_step(const WorkflowSpec& spec, const Dag& dag, const Plan& plan, size_t k);

}  // namespace prov
