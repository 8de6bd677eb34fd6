#pragma once
/// A command's signature as Nushell's PluginSignature: name, help texts, typed positionals and
/// flags, input/output types, category and examples. Shapes and types are serde-shaped Wire
/// ("String", {"List": "Any"}) built with the helpers below.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugin/protocol/value.hpp"
#include "plugin/protocol/value_wire.hpp"
#include "plugin/protocol/wire.hpp"

namespace prov::plugin {

/// SyntaxShape values (how the parser reads an argument).
namespace shape {
inline Wire any() { return "Any"; }
inline Wire string() { return "String"; }
inline Wire integer() { return "Int"; }
inline Wire boolean() { return "Boolean"; }
inline Wire cell_path() { return "CellPath"; }
inline Wire directory() { return "Directory"; }
inline Wire filepath() { return "Filepath"; }
inline Wire duration() { return "Duration"; }
inline Wire record() { return Wire{{"Record", Wire::array()}}; }
inline Wire closure() { return Wire{{"Closure", nullptr}}; }
inline Wire list(Wire of) { return Wire{{"List", std::move(of)}}; }
inline Wire one_of(std::vector<Wire> shapes) { return Wire{{"OneOf", Wire(std::move(shapes))}}; }
}  // namespace shape

/// Type values (what a command takes and returns).
namespace type {
inline Wire any() { return "Any"; }
inline Wire nothing() { return "Nothing"; }
inline Wire string() { return "String"; }
inline Wire record() { return Wire{{"Record", Wire::array()}}; }
inline Wire table() { return Wire{{"Table", Wire::array()}}; }
inline Wire list(Wire of) { return Wire{{"List", std::move(of)}}; }
}  // namespace type

struct PositionalArg {
  std::string name;
  std::string desc;
  Wire shape;
};

struct Flag {
  std::string long_name;
  std::optional<char> short_name;
  std::optional<Wire> arg;  ///< shape of the flag's value; none for a switch
  std::string desc;
  bool required = false;
};

/// An example shown in help; `result` is what running it gives, when stated.
struct Example {
  std::string example;
  std::string description;
  std::optional<Value> result;
};

struct Signature {
  std::string name;
  std::string description;
  std::string extra_description;
  std::vector<std::string> search_terms;
  std::vector<PositionalArg> required;
  std::vector<PositionalArg> optional;
  std::optional<PositionalArg> rest;
  std::vector<Flag> named;  ///< without --help, which is always added
  std::vector<std::pair<Wire, Wire>> input_output_types;
  std::string category = "provisioning";
  std::vector<Example> examples;

  /// Index of the positional called `name` among required then optional ones, or -1.
  int positional_index(std::string_view name) const;
};

/// The PluginSignature Wire form.
Wire to_wire(const Signature& s, const Dialect& d);

}  // namespace prov::plugin
