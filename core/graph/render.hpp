#pragma once
/// Pictures of a workflow's graph as text, drawn from the same Dag and Plan the scheduler runs:
/// Graphviz DOT and Mermaid. Nodes read `id` over `kind`, ranked by level; any id is quoted
/// safely, whatever characters it holds.

#include <map>
#include <string>

#include "core/graph/dag.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/workflow.hpp"

namespace prov {

/// What a picture shows beyond the graph.
struct RenderOptions {
  /// Operation id → status (pending, running, succeeded, failed, skipped, rolled_back): the
  /// node is filled with the status's colour. Other ids and other statuses stay unfilled.
  std::map<std::string, std::string> status;
};

/// A Graphviz `digraph` named after the workflow: one `rank=same` subgraph per level with its
/// nodes in plan order, then one edge per dependency, from the dependency to its dependent.
std::string render_dot(const WorkflowSpec& spec, const Dag& dag, const Plan& plan,
                       const RenderOptions& options = {});

/// A Mermaid `flowchart TD`: nodes `n<index>` labelled id and kind, grouped by level in plan
/// order, then one `-->` per dependency; statuses become classes.
std::string render_mermaid(const WorkflowSpec& spec, const Dag& dag, const Plan& plan,
                           const RenderOptions& options = {});

}  // namespace prov
