/// Fuzz target: a workflow file's text, read both as JSON and as TOML as load_workflow_file
/// would, then whatever parses is validated (parse_workflow), planned and drawn as the plan and
/// graph commands do. Only prov::Error may come out, and a workflow that validates must plan.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/toml_file.hpp"
#include "core/graph/dag.hpp"
#include "core/graph/plan.hpp"
#include "core/graph/render.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/support/error.hpp"

namespace {

void plan_and_draw(prov::Datum doc, const std::string& origin) {
  prov::Dag dag;
  prov::WorkflowSpec spec;
  try {
    spec = prov::parse_workflow(std::move(doc), origin, &dag);
  } catch (const prov::Error&) {
    return;
  }
  // parse_workflow promises a graph without cycles: from here on nothing may throw.
  const prov::Plan plan = prov::make_plan(spec, dag);
  if (plan.order.size() != spec.operations.size()) {
    std::fprintf(stderr, "workflow fuzz: the plan lost operations\n");
    std::abort();
  }
  for (size_t k = 0; k < plan.order.size(); ++k) prov::plan_step(spec, dag, plan, k);
  prov::render_dot(spec, dag, plan);
  prov::render_mermaid(spec, dag, plan);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<prov::Datum> doc;
  try {
    doc = prov::parse_workflow_json(text, "fuzz.json");
  } catch (const prov::Error&) {
  }
  if (doc) plan_and_draw(std::move(*doc), "fuzz.json");
  doc.reset();
  try {
    doc = prov::parse_toml(text, "fuzz.toml");
  } catch (const prov::Error&) {
  }
  if (doc) plan_and_draw(std::move(*doc), "fuzz.toml");
  return 0;
}
