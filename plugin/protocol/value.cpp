#include "plugin/protocol/value.hpp"

namespace prov::plugin {

const Value* Value::get(std::string_view key) const {
  if (type != Type::Record) return nullptr;
  for (const auto& [k, v] : as_record())
    if (k == key) return &v;
  return nullptr;
}

std::string Value::type_name() const {
  switch (type) {
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::Filesize: return "filesize";
    case Type::Duration: return "duration";
    case Type::Date: return "datetime";
    case Type::Range: return "range";
    case Type::String: return "string";
    case Type::Glob: return "glob";
    case Type::Record: return "record";
    case Type::List: return "list";
    case Type::Closure: return "closure";
    case Type::Nothing: return "nothing";
    case Type::Error: return "error";
    case Type::Binary: return "binary";
    case Type::CellPath: return "cell-path";
    case Type::Custom: return "custom";
  }
  return "unknown";
}

}  // namespace prov::plugin
