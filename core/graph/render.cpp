#include "core/graph/render.hpp"

#include <string_view>

namespace prov {

namespace {

struct StatusStyle {
  std::string_view status;
  std::string_view fill;
  std::string_view stroke;
};

constexpr StatusStyle kStatusStyles[] = {
    {"pending", "#f8f9fa", "#6c757d"},   {"running", "#cfe2ff", "#084298"},
    {"succeeded", "#d1e7dd", "#0f5132"}, {"failed", "#f8d7da", "#842029"},
    {"skipped", "#e2e3e5", "#41464b"},   {"rolled_back", "#fff3cd", "#664d03"},
};

/// The style of `id`'s status, or nullptr when it has none that is known.
const StatusStyle* style_of(const RenderOptions& options, const std::string& id) {
  auto it = options.status.find(id);
  if (it == options.status.end()) return nullptr;
  for (const StatusStyle& s : kStatusStyles)
    if (s.status == it->second) return &s;
  return nullptr;
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

/// A DOT double-quoted string. Backslashes are doubled so that none escapes the closing quote;
/// in labels Graphviz reads them back as one.
std::string dot_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += is_control(c) ? ' ' : c;
    }
  }
  return out + "\"";
}

/// Label text for Mermaid's `["…"]`: characters that could end the string, start markup or an
/// entity become Mermaid entity codes.
std::string mermaid_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '#':
        out += "#35;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '`':
        out += "#96;";
        break;
      default:
        out += is_control(c) ? ' ' : c;
    }
  }
  return out;
}

/// Text for a `%%` comment line: on one line.
std::string comment_text(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (is_control(c)) c = ' ';
  return out;
}

}  // namespace

std::string render_dot(const WorkflowSpec& spec, const Dag& dag, const Plan& plan,
                       const RenderOptions& options) {
  std::string out = "digraph " + dot_quote(spec.name) + " {\n";
  out += "  rankdir=TB;\n";
  out += "  node [shape=box, style=rounded];\n";
  for (size_t k = 0; k < plan.order.size(); ++k) {
    const size_t i = plan.order[k];
    const size_t level = plan.level[i];
    if (k == 0 || plan.level[plan.order[k - 1]] != level)
      out += "  subgraph level_" + std::to_string(level) + " {\n    rank=same;\n";
    const OperationSpec& op = spec.operations[i];
    out += "    " + dot_quote(op.id) + " [label=" + dot_quote(op.id + "\n" + op.kind);
    if (const StatusStyle* s = style_of(options, op.id))
      out += ", style=\"rounded,filled\", fillcolor=\"" + std::string(s->fill) + "\", color=\"" +
             std::string(s->stroke) + "\"";
    out += "];\n";
    if (k + 1 == plan.order.size() || plan.level[plan.order[k + 1]] != level) out += "  }\n";
  }
  for (size_t i : plan.order)
    for (size_t d : dag.deps[i])
      out += "  " + dot_quote(spec.operations[d].id) + " -> " + dot_quote(spec.operations[i].id) +
             ";\n";
  return out + "}\n";
}

std::string render_mermaid(const WorkflowSpec& spec, const Dag& dag, const Plan& plan,
                           const RenderOptions& options) {
  auto node = [](size_t i) { return "n" + std::to_string(i); };
  std::string out = "flowchart TD\n";
  out += "  %% workflow " + comment_text(spec.name) + "\n";
  std::map<std::string_view, std::string> classes;  // status → its nodes, comma separated
  for (size_t k = 0; k < plan.order.size(); ++k) {
    const size_t i = plan.order[k];
    if (k == 0 || plan.level[plan.order[k - 1]] != plan.level[i])
      out += "  %% level " + std::to_string(plan.level[i]) + "\n";
    const OperationSpec& op = spec.operations[i];
    out += "  " + node(i) + "[\"" + mermaid_text(op.id) + "<br/>" + mermaid_text(op.kind) + "\"]\n";
    if (const StatusStyle* s = style_of(options, op.id)) {
      std::string& members = classes[s->status];
      members += (members.empty() ? "" : ",") + node(i);
    }
  }
  for (size_t i : plan.order)
    for (size_t d : dag.deps[i]) out += "  " + node(d) + " --> " + node(i) + "\n";
  for (const StatusStyle& s : kStatusStyles) {
    auto it = classes.find(s.status);
    if (it == classes.end()) continue;
    out += "  classDef " + std::string(s.status) + " fill:" + std::string(s.fill) +
           ",stroke:" + std::string(s.stroke) + "\n";
    out += "  class " + it->second + " " + std::string(s.status) + "\n";
  }
  return out;
}

}  // namespace prov
