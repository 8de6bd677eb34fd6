#pragma once
/// Value <-> Wire, the serde shape Nushell gives its values: `{"Int": {"val": 5, "span": …}}`.
/// Engines differ: from 0.114 ranges and cell paths travel as text ("1..2..10", "$.a.0?"),
/// before as structures. Decoding accepts both; encoding follows the engine's dialect.

#include "plugin/protocol/value.hpp"
#include "plugin/protocol/wire.hpp"

namespace prov::plugin {

/// How the connected engine expects values to be shaped.
struct Dialect {
  bool text_ranges_and_cell_paths = true;  ///< Nushell >= 0.114
  bool operator==(const Dialect&) const = default;
};

Wire to_wire(const Span& s);
Span span_from_wire(const Wire& w);
Wire to_wire(const Value& v, const Dialect& d);
/// Throws ProtocolError naming the variant or field that is wrong.
Value value_from_wire(const Wire& w);
Wire to_wire(const LabeledError& e);
LabeledError labeled_error_from_wire(const Wire& w);
Wire to_wire(const Closure& c, const Dialect& d);
Closure closure_from_wire(const Wire& w);

/// Nushell's text forms, as Display writes them and FromStr reads them.
std::string range_to_text(const Range& r);
Range range_from_text(const std::string& text);
std::string cell_path_to_text(const CellPath& c);
CellPath cell_path_from_text(const std::string& text);

}  // namespace prov::plugin
