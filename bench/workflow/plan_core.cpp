// The core's own planning time, without Nushell or the plugin protocol: reads a workflow file
// as `prov workflow plan` does (read_workflow_file: a JSON file's operations read and checked
// one at a time), validates it (parse_workflow_file builds the DAG), and plans it (make_plan,
// then every row of the plan with plan_step), timing each phase.
// Prints one line: `read_ms parse_ms plan_ms total_ms operations`. Used by
// bench/workflow_bench.sh to say where `prov workflow plan` spends its time.
#include <chrono>
#include <cstdio>
#include <exception>
#include <utility>

#include "core/graph/plan.hpp"
#include "core/graph/workflow_parse.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WORKFLOW.json|.toml\n", argv[0]);
    return 2;
  }
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  try {
    auto t0 = clock::now();
    prov::WorkflowFile file = prov::read_workflow_file(argv[1]);
    auto t1 = clock::now();
    prov::Dag dag;
    prov::WorkflowSpec spec = prov::parse_workflow_file(std::move(file), argv[1], &dag);
    auto t2 = clock::now();
    prov::Plan plan = prov::make_plan(spec, dag);
    // Every row, as `prov workflow plan` makes them (one at a time, then dropped).
    size_t rows = 0;
    for (size_t k = 0; k < plan.order.size(); ++k)
      rows += prov::plan_step(spec, dag, plan, k).step == k + 1;
    auto t3 = clock::now();
    std::printf("%.1f %.1f %.1f %.1f %zu\n", ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t0, t3), rows);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plan_core: %s\n", e.what());
    return 1;
  }
}
