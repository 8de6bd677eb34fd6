// DOT and Mermaid pictures: golden text for a diamond, ids that could break the syntax, and
// statuses as colours.

#include "core/graph/render.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {

struct Drawn {
  WorkflowSpec spec;
  Dag dag;
  Plan plan;
};

Drawn draw(std::string name,
           const std::vector<std::pair<std::string, std::vector<std::string>>>& ops,
           const std::vector<std::string>& kinds = {}) {
  Drawn d;
  d.spec.name = std::move(name);
  for (size_t i = 0; i < ops.size(); ++i) {
    OperationSpec op;
    op.id = ops[i].first;
    op.kind = i < kinds.size() ? kinds[i] : "command";
    op.depends_on = ops[i].second;
    d.spec.operations.push_back(op);
  }
  d.dag = make_dag(d.spec);
  d.plan = make_plan(d.spec, d.dag);
  return d;
}

Drawn diamond() {
  // Written out of order: the picture follows the plan.
  return draw("diamond", {{"d", {"b", "c"}}, {"b", {"a"}}, {"c", {"a"}}, {"a", {}}},
              {"file.write", "command", "nu", "command"});
}

}  // namespace

TEST_CASE("render_dot draws a diamond ranked by level", "[graph][render]") {
  const Drawn d = diamond();
  CHECK(render_dot(d.spec, d.dag, d.plan) == R"(digraph "diamond" {
  rankdir=TB;
  node [shape=box, style=rounded];
  subgraph level_0 {
    rank=same;
    "a" [label="a\ncommand"];
  }
  subgraph level_1 {
    rank=same;
    "b" [label="b\ncommand"];
    "c" [label="c\nnu"];
  }
  subgraph level_2 {
    rank=same;
    "d" [label="d\nfile.write"];
  }
  "a" -> "b";
  "a" -> "c";
  "b" -> "d";
  "c" -> "d";
}
)");
}

TEST_CASE("render_mermaid draws a diamond top-down", "[graph][render]") {
  const Drawn d = diamond();
  CHECK(render_mermaid(d.spec, d.dag, d.plan) == R"(flowchart TD
  %% workflow diamond
  %% level 0
  n3["a<br/>command"]
  %% level 1
  n1["b<br/>command"]
  n2["c<br/>nu"]
  %% level 2
  n0["d<br/>file.write"]
  n3 --> n1
  n3 --> n2
  n1 --> n0
  n2 --> n0
)");
}

TEST_CASE("render_dot quotes ids that hold quotes, backslashes, spaces and unicode",
          "[graph][render]") {
  const Drawn d = draw("say \"hi\"\n", {{"a \"b\"", {}}, {"c\\", {"a \"b\""}}, {"ünï ✓", {"c\\"}}});
  const std::string dot = render_dot(d.spec, d.dag, d.plan);
  CHECK(dot.rfind("digraph \"say \\\"hi\\\"\\n\" {\n", 0) == 0);
  CHECK(dot.find("    \"a \\\"b\\\"\" [label=\"a \\\"b\\\"\\ncommand\"];\n") != std::string::npos);
  CHECK(dot.find("    \"c\\\\\" [label=\"c\\\\\\ncommand\"];\n") != std::string::npos);
  CHECK(dot.find("  \"a \\\"b\\\"\" -> \"c\\\\\";\n") != std::string::npos);
  CHECK(dot.find("  \"c\\\\\" -> \"ünï ✓\";\n") != std::string::npos);
  // Every quote that is not escaped opens or closes a string: they pair up on every line.
  size_t line_start = 0;
  while (line_start < dot.size()) {
    const size_t end = dot.find('\n', line_start);
    const std::string line = dot.substr(line_start, end - line_start);
    size_t quotes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\')
        ++i;
      else if (line[i] == '"')
        ++quotes;
    }
    INFO(line);
    CHECK(quotes % 2 == 0);
    line_start = end + 1;
  }
}

TEST_CASE("render_mermaid escapes labels into entity codes", "[graph][render]") {
  const Drawn d =
      draw("x", {{"say \"hi\" <b>#1 & `2`", {}}, {"ünï ✓", {"say \"hi\" <b>#1 & `2`"}}});
  const std::string mm = render_mermaid(d.spec, d.dag, d.plan);
  CHECK(mm.find("  n0[\"say #quot;hi#quot; #lt;b#gt;#35;1 #amp; #96;2#96;<br/>command\"]\n") !=
        std::string::npos);
  CHECK(mm.find("  n1[\"ünï ✓<br/>command\"]\n") != std::string::npos);
  CHECK(mm.find("  n0 --> n1\n") != std::string::npos);
}

TEST_CASE("statuses colour the nodes", "[graph][render]") {
  const Drawn d = diamond();
  RenderOptions options;
  options.status = {{"a", "succeeded"}, {"b", "failed"}, {"c", "succeeded"}, {"d", "bogus"}};
  const std::string dot = render_dot(d.spec, d.dag, d.plan, options);
  CHECK(dot.find("\"a\" [label=\"a\\ncommand\", style=\"rounded,filled\", fillcolor=\"#d1e7dd\", "
                 "color=\"#0f5132\"];") != std::string::npos);
  CHECK(dot.find("\"b\" [label=\"b\\ncommand\", style=\"rounded,filled\", fillcolor=\"#f8d7da\"") !=
        std::string::npos);
  CHECK(dot.find("\"d\" [label=\"d\\nfile.write\"];") != std::string::npos);

  const std::string mm = render_mermaid(d.spec, d.dag, d.plan, options);
  CHECK(mm.find("  classDef succeeded fill:#d1e7dd,stroke:#0f5132\n  class n3,n2 succeeded\n") !=
        std::string::npos);
  CHECK(mm.find("  classDef failed fill:#f8d7da,stroke:#842029\n  class n1 failed\n") !=
        std::string::npos);
  CHECK(mm.find("bogus") == std::string::npos);
  CHECK(mm.find("class n0") == std::string::npos);
}
