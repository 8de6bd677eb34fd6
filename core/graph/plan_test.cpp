// Plans: order by level then as written, the rows shown, and refusing a cycle.

#include "core/graph/plan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/graph/workflow_parse.hpp"

using namespace prov;

namespace {

struct Op {
  std::string id, kind;
  std::vector<std::string> deps;
};

WorkflowSpec spec_of(const std::vector<Op>& ops) {
  WorkflowSpec w;
  w.name = std::string("t");  // not = "t": GCC 12 warns falsely (-Wrestrict, PR 105329)
  for (const Op& o : ops) {
    OperationSpec op;
    op.id = o.id;
    op.kind = o.kind;
    op.depends_on = o.deps;
    w.operations.push_back(op);
  }
  return w;
}

/// Every row of the plan, by plan_step.
std::vector<PlanStep> steps_of(const WorkflowSpec& spec, const Dag& dag, const Plan& plan) {
  std::vector<PlanStep> out;
  for (size_t k = 0; k < plan.order.size(); ++k) out.push_back(plan_step(spec, dag, plan, k));
  return out;
}

std::vector<std::string> ids_in_order(const std::vector<PlanStep>& steps) {
  std::vector<std::string> out;
  for (const PlanStep& s : steps) out.push_back(s.id);
  return out;
}

}  // namespace

TEST_CASE("make_plan orders by level, then as written", "[graph][plan]") {
  // The shape of examples/workflows/deploy.toml.
  const WorkflowSpec spec = spec_of({
      {"render-config", "file.write", {}},
      {"check-host", "command", {}},
      {"fetch-artifact", "command", {"check-host"}},
      {"build-image", "command", {"fetch-artifact"}},
      {"count-servers", "nu", {"render-config"}},
      {"announce", "command", {"build-image", "count-servers"}},
  });
  const Dag dag = make_dag(spec);
  const Plan plan = make_plan(spec, dag);
  const std::vector<PlanStep> rows = steps_of(spec, dag, plan);
  CHECK(ids_in_order(rows) == std::vector<std::string>{"render-config", "check-host",
                                                       "fetch-artifact", "count-servers",
                                                       "build-image", "announce"});
  CHECK(plan.order == std::vector<size_t>{0, 1, 2, 4, 3, 5});
  CHECK(plan.level == std::vector<size_t>{0, 0, 1, 2, 1, 3});
  CHECK(plan.depth == 4);

  REQUIRE(rows.size() == 6);
  std::vector<size_t> steps, levels;
  for (const PlanStep& s : rows) {
    steps.push_back(s.step);
    levels.push_back(s.level);
  }
  CHECK(steps == std::vector<size_t>{1, 2, 3, 4, 5, 6});
  CHECK(levels == std::vector<size_t>{0, 0, 1, 1, 2, 3});
  CHECK(rows[3].kind == "nu");
  CHECK(rows[3].depends_on == std::vector<std::string>{"render-config"});
  CHECK(rows[5].depends_on == std::vector<std::string>{"build-image", "count-servers"});
  CHECK(rows[0].depends_on.empty());
}

TEST_CASE("make_plan shows each dependency once", "[graph][plan]") {
  const WorkflowSpec spec = spec_of({{"a", "command", {}}, {"b", "command", {"a", "a"}}});
  const Dag dag = make_dag(spec);
  const Plan plan = make_plan(spec, dag);
  CHECK(plan_step(spec, dag, plan, 1).depends_on == std::vector<std::string>{"a"});
}

TEST_CASE("make_plan refuses a cycle, naming it", "[graph][plan]") {
  const WorkflowSpec spec = spec_of({{"x", "command", {}},
                                     {"a", "command", {"c", "x"}},
                                     {"b", "command", {"a"}},
                                     {"c", "command", {"b"}}});
  try {
    make_plan(spec, make_dag(spec));
    FAIL("a cycle was planned");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::cycle");
    CHECK(std::string(e.what()) == "dependency cycle: a -> b -> c -> a");
  }
}

TEST_CASE("a workflow of 200,000 operations and about a million dependencies plans",
          "[graph][plan][large]") {
  // Written in a shuffled order; most dependencies are near in rank so that chains grow long,
  // and the last operation waits for a fifth of all the others (and names some twice).
  const size_t n = 200'000;
  std::mt19937_64 rng(2024);
  std::vector<size_t> op_at_rank(n);
  std::iota(op_at_rank.begin(), op_at_rank.end(), size_t{0});
  std::shuffle(op_at_rank.begin(), op_at_rank.end(), rng);
  auto id = [](size_t i) { return "op-" + std::to_string(i); };
  std::vector<DatumList> depends_on(n);
  size_t edges = 0;
  for (size_t r = 1; r < n; ++r) {
    const size_t count = std::min<size_t>(r, rng() % 11);
    for (size_t e = 0; e < count; ++e, ++edges) {
      const size_t back = 1 + (rng() % 4 == 0 ? rng() % r : rng() % std::min<size_t>(r, 50));
      depends_on[op_at_rank[r]].push_back(id(op_at_rank[r - back]));
    }
  }
  for (size_t r = 0; r + 1 < n; r += 5) depends_on[op_at_rank[n - 1]].push_back(id(op_at_rank[r]));
  for (size_t r = 0; r + 1 < n; r += 50) depends_on[op_at_rank[n - 1]].push_back(id(op_at_rank[r]));
  DatumList operations;
  operations.reserve(n);
  for (size_t i = 0; i < n; ++i)
    operations.push_back(DatumRecord{{"id", id(i)},
                                     {"kind", "command"},
                                     {"run", DatumList{"true"}},
                                     {"depends_on", std::move(depends_on[i])}});
  const Datum doc(DatumRecord{{"name", "big"}, {"operations", std::move(operations)}});
  CHECK(edges > 900'000);

  Dag dag;
  const WorkflowSpec spec = parse_workflow(doc, "pipeline input", &dag);
  REQUIRE(dag.size() == n);
  const Plan plan = make_plan(spec, dag);
  REQUIRE(plan.order.size() == n);
  const std::vector<PlanStep> rows = steps_of(spec, dag, plan);
  REQUIRE(rows.size() == n);

  // A topological order of the ids as written: every dependency comes earlier.
  std::vector<size_t> position(n, n);
  for (size_t k = 0; k < n; ++k) position[std::stoul(rows[k].id.substr(3))] = k;
  CHECK(std::count(position.begin(), position.end(), n) == 0);
  size_t late = 0, repeated = 0, wrong_level = 0;
  for (size_t k = 0; k < n; ++k) {
    const PlanStep& step = rows[k];
    size_t level = 0;
    for (const std::string& d : step.depends_on) {
      const size_t at = position[std::stoul(d.substr(3))];
      if (at >= k) ++late;
      level = std::max(level, rows[at].level + 1);
    }
    if (level != step.level) ++wrong_level;
    std::vector<std::string> sorted = step.depends_on;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) ++repeated;
  }
  CHECK(late == 0);
  CHECK(wrong_level == 0);
  CHECK(repeated == 0);
  CHECK(rows.back().id == id(op_at_rank[n - 1]));
  CHECK(rows.back().depends_on.size() > n / 5);
}
