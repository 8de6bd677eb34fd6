#pragma once
/// Pictures of a workflow: its DOT text laid out by Graphviz's `dot` into SVG. Graphviz is an
/// optional dependency (Debian package `graphviz`); without it this is a clear error, not a
/// missing feature discovered by a crash.

#include <string>

namespace prov {

/// The Debian package that provides `dot`, for messages.
inline constexpr const char* kGraphvizPackage = "graphviz";

/// Lays out `dot_text` with the `dot` program at `dot_program` (an absolute path) and returns
/// the SVG document. The text goes through a private temporary file, never a shell. Throws
/// ResourceError `provisioning::graph::render` when dot fails, with its message.
std::string render_svg(const std::string& dot_text, const std::string& dot_program);

/// The `dot` program in `path_list` (a PATH value, entries separated by ':'), relative entries
/// counted from `cwd`. Throws ResourceError `provisioning::graph::graphviz_missing`, naming
/// the Debian package, when there is none.
std::string find_dot(const std::string& path_list, const std::string& cwd);

}  // namespace prov
