#include "core/graph/dag.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "core/graph/id_index.hpp"

namespace prov {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

/// A shortest cycle through `start` inside component `component` (marked in `component_of`):
/// breadth-first along edges, neighbours in ascending order. `seen` and `parent` are scratch
/// space shared by all components, which are disjoint.
std::vector<size_t> shortest_cycle(const Dag& dag, size_t start, size_t component,
                                   const std::vector<size_t>& component_of,
                                   std::vector<size_t>& seen, std::vector<size_t>& parent) {
  std::vector<size_t> queue{start};
  seen[start] = component;
  for (size_t head = 0; head < queue.size(); ++head) {
    const size_t v = queue[head];
    for (size_t w : dag.dependents[v]) {
      if (w == start) {
        std::vector<size_t> path;
        for (size_t u = v; u != start; u = parent[u]) path.push_back(u);
        path.push_back(start);
        std::reverse(path.begin(), path.end());
        return path;
      }
      if (component_of[w] != component || seen[w] == component) continue;
      seen[w] = component;
      parent[w] = v;
      queue.push_back(w);
    }
  }
  return {start};  // unreachable for a strongly connected component
}

}  // namespace

Dag make_dag(std::vector<std::vector<size_t>> deps) {
  const size_t n = deps.size();
  // Side by side, so that each edge costs one cache miss on its dependency, not two.
  struct Seen {
    size_t last_in = kNone;  ///< the last list that named this operation
    size_t dependents = 0;
  };
  std::vector<Seen> seen(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<size_t>& list = deps[i];
    size_t kept = 0;
    for (size_t d : list) {
      if (d >= n) throw std::out_of_range("make_dag: dependency index out of range");
      if (seen[d].last_in == i) continue;
      seen[d].last_in = i;
      ++seen[d].dependents;
      list[kept++] = d;
    }
    list.resize(kept);
  }
  Dag dag;
  dag.dependents.resize(n);
  for (size_t i = 0; i < n; ++i) dag.dependents[i].reserve(seen[i].dependents);
  for (size_t i = 0; i < n; ++i)
    for (size_t d : deps[i]) dag.dependents[d].push_back(i);
  dag.deps = std::move(deps);
  return dag;
}

Dag make_dag(const WorkflowSpec& spec) {
  const size_t n = spec.operations.size();
  IdIndex index(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& id = spec.operations[i].id;
    if (index.insert(id, i) != i)
      throw WorkflowError("provisioning::workflow::duplicate_id",
                          "operation '" + id + "' is defined more than once",
                          "give each operation a unique id", Blame::input());
  }
  std::vector<std::vector<size_t>> deps(n);
  for (size_t i = 0; i < n; ++i) {
    const OperationSpec& op = spec.operations[i];
    deps[i].reserve(op.depends_on.size());
    for (const std::string& d : op.depends_on) {
      const size_t at = index.find(d);
      if (at == IdIndex::npos)
        throw WorkflowError("provisioning::workflow::unknown_dependency",
                            "operation '" + op.id + "': depends on '" + d +
                                "', which is not an operation of this workflow",
                            "list only ids of this workflow's operations in depends_on",
                            Blame::input());
      deps[i].push_back(at);
    }
  }
  return make_dag(std::move(deps));
}

std::vector<std::vector<size_t>> find_cycles(const Dag& dag) {
  // Tarjan's strongly connected components with an explicit stack of (operation, next edge).
  const size_t n = dag.size();
  std::vector<size_t> visit_index(n, kNone), low(n, 0), component_of(n, kNone);
  std::vector<char> on_stack(n, 0);
  std::vector<size_t> stack, members;
  std::vector<std::pair<size_t, size_t>> calls;
  std::vector<size_t> seen(n, kNone), parent(n, kNone);
  std::vector<std::vector<size_t>> cycles;
  size_t counter = 0, components = 0;

  auto enter = [&](size_t v) {
    visit_index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = 1;
    calls.emplace_back(v, 0);
  };

  for (size_t root = 0; root < n; ++root) {
    if (visit_index[root] != kNone) continue;
    enter(root);
    while (!calls.empty()) {
      auto& [v, next] = calls.back();
      const std::vector<size_t>& out = dag.dependents[v];
      if (next < out.size()) {
        const size_t w = out[next++];
        if (visit_index[w] == kNone) {
          enter(w);  // invalidates v and next
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], visit_index[w]);
        }
        continue;
      }
      const size_t done = v;
      calls.pop_back();
      if (!calls.empty()) {
        const size_t caller = calls.back().first;
        low[caller] = std::min(low[caller], low[done]);
      }
      if (low[done] != visit_index[done]) continue;

      const size_t component = components++;
      members.clear();
      size_t smallest = done;
      while (true) {
        const size_t w = stack.back();
        stack.pop_back();
        on_stack[w] = 0;
        component_of[w] = component;
        members.push_back(w);
        smallest = std::min(smallest, w);
        if (w == done) break;
      }
      const bool self_loop =
          members.size() == 1 &&
          std::find(dag.deps[done].begin(), dag.deps[done].end(), done) != dag.deps[done].end();
      if (members.size() > 1 || self_loop)
        cycles.push_back(shortest_cycle(dag, smallest, component, component_of, seen, parent));
    }
  }
  std::sort(cycles.begin(), cycles.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return cycles;
}

std::optional<Levels> compute_levels(const Dag& dag) {
  // Kahn's algorithm: an operation's level is settled when its last dependency is.
  const size_t n = dag.size();
  struct Node {
    size_t waiting;  ///< dependencies not yet settled
    size_t level;    ///< the longest chain below it seen so far
  };
  std::vector<Node> nodes(n);
  std::vector<size_t> ready;
  ready.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    nodes[i] = {dag.deps[i].size(), 0};
    if (nodes[i].waiting == 0) ready.push_back(i);
  }
  for (size_t head = 0; head < ready.size(); ++head) {
    const size_t v = ready[head];
    const size_t next_level = nodes[v].level + 1;
    for (size_t w : dag.dependents[v]) {
      Node& node = nodes[w];
      if (node.level < next_level) node.level = next_level;
      if (--node.waiting == 0) ready.push_back(w);
    }
  }
  if (ready.size() != n) return std::nullopt;

  Levels out;
  out.level.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.level[i] = nodes[i].level;
    out.depth = std::max(out.depth, nodes[i].level + 1);
  }
  // Counting sort by level; scanning indices in ascending order keeps ties as written.
  std::vector<size_t> start(out.depth + 1, 0);
  for (size_t i = 0; i < n; ++i) ++start[out.level[i] + 1];
  for (size_t l = 1; l <= out.depth; ++l) start[l] += start[l - 1];
  out.order.resize(n);
  for (size_t i = 0; i < n; ++i) out.order[start[out.level[i]]++] = i;
  return out;
}

std::string cycle_text(const WorkflowSpec& spec, const std::vector<size_t>& cycle) {
  constexpr size_t kHead = 6, kTail = 4;
  auto id = [&](size_t i) -> const std::string& { return spec.operations[i].id; };
  std::string out;
  for (size_t k = 0; k < cycle.size(); ++k) {
    if (cycle.size() > kHead + kTail + 2 && k == kHead) {
      out += "… " + std::to_string(cycle.size() - kHead - kTail) + " more … -> ";
      k = cycle.size() - kTail - 1;
      continue;
    }
    out += id(cycle[k]) + " -> ";
  }
  return out + (cycle.empty() ? std::string() : id(cycle.front()));
}

WorkflowError cycle_error(const WorkflowSpec& spec, const std::vector<size_t>& cycle) {
  return WorkflowError("provisioning::workflow::cycle",
                       "dependency cycle: " + cycle_text(spec, cycle),
                       "an operation cannot wait, directly or through others, for itself: remove "
                       "one of these dependencies",
                       Blame::input());
}

}  // namespace prov
