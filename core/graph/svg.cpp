#include "core/graph/svg.hpp"

#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/subprocess.hpp"
#include "core/support/temp_dir.hpp"

namespace prov {

std::string find_dot(const std::string& path_list, const std::string& cwd) {
  ChildEnv env(Environment{{"PATH", path_list}});
  try {
    return env.find_program("dot", cwd);
  } catch (const ResourceError&) {
    throw ResourceError("provisioning::graph::graphviz_missing",
                        "Graphviz's `dot` program is not on PATH; SVG output needs it",
                        std::string("install the Debian package: sudo apt-get install ") + kGraphvizPackage +
                            " (or use --format dot or --format mermaid, which need nothing)");
  }
}

std::string render_svg(const std::string& dot_text, const std::string& dot_program) {
  TempDir scratch("prov-graph");
  const std::string input = scratch.write("workflow.dot", dot_text);
  ProcessOutput r = run_captured({dot_program, "-Tsvg", input});
  if (r.exit_code != 0 || r.out.find("<svg") == std::string::npos) {
    std::string why = r.err.empty() ? "exit status " + std::to_string(r.exit_code) : r.err;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    throw ResourceError("provisioning::graph::render", "Graphviz's dot could not draw the workflow: " + why,
                        "`prov workflow graph --format dot` shows the text it was given");
  }
  return std::move(r.out);
}

}  // namespace prov
