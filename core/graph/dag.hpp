#pragma once
/// The operations of a workflow as a graph of indices: operation i is spec.operations[i], and
/// an edge runs from an operation to each operation that waits for it. Cycles, levels and a
/// topological order, all in linear time without recursion (workflows of 200,000 operations).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/graph/workflow.hpp"
#include "core/support/error.hpp"

namespace prov {

/// Who waits for whom. Both lists hold indices < size(); together they hold each edge once.
struct Dag {
  std::vector<std::vector<size_t>> deps;  ///< deps[i]: what i waits for, as written, no repeats
  std::vector<std::vector<size_t>> dependents;  ///< dependents[i]: what waits for i, ascending
  size_t size() const { return deps.size(); }
};

/// A graph from dependency lists: repeats within a list are dropped, `dependents` is derived.
/// Self-loops and cycles are kept (find_cycles reports them). Throws std::out_of_range when an
/// index is not below deps.size().
Dag make_dag(std::vector<std::vector<size_t>> deps);

/// The graph of a workflow's operations. Throws WorkflowError `provisioning::workflow::
/// duplicate_id` or `::unknown_dependency` when the ids do not identify the dependencies
/// (never for a spec from parse_workflow).
Dag make_dag(const WorkflowSpec& spec);

/// Every cycle, one per strongly connected component of two or more operations and one per
/// self-loop, in ascending order of their first member. A cycle is a shortest path from the
/// component's smallest index along edges (from an operation to one waiting for it) back to
/// that index, which is listed once, first: {0, 1, 2} is 0 -> 1 -> 2 -> 0.
std::vector<std::vector<size_t>> find_cycles(const Dag& dag);

/// Operations in layers: an operation's level is the longest dependency chain below it.
struct Levels {
  std::vector<size_t> order;  ///< every operation once, ascending by level, then by index
  std::vector<size_t> level;  ///< level[i] of operation i; operations without dependencies are 0
  size_t depth = 0;           ///< number of distinct levels (0 for an empty graph)
};

/// The levels and topological order of `dag`; nullopt when it has a cycle.
std::optional<Levels> compute_levels(const Dag& dag);

/// "a -> b -> c -> a": a cycle from find_cycles in the operations' ids. Cycles of more than a
/// dozen operations are shortened in the middle ("… 120 more …").
std::string cycle_text(const WorkflowSpec& spec, const std::vector<size_t>& cycle);

/// WorkflowError `provisioning::workflow::cycle` naming the cycle, blamed on the input.
WorkflowError cycle_error(const WorkflowSpec& spec, const std::vector<size_t>& cycle);

}  // namespace prov
