#pragma once
/// Short ways to write the results that commands' examples state (Example::result), so a
/// signature reads like the table the example prints.

#include <string>
#include <utility>
#include <vector>

#include "plugin/protocol/value.hpp"

namespace prov::plugin {

/// A list of strings: `strings({"a", "b"})` is `[a b]`.
inline Value strings(std::vector<std::string> items) {
  std::vector<Value> l;
  for (auto& s : items) l.push_back(Value::string(std::move(s)));
  return Value::list(std::move(l));
}

/// A table: one record per row, its values under `columns` in order.
inline Value table(const std::vector<std::string>& columns, std::vector<std::vector<Value>> rows) {
  std::vector<Value> l;
  for (auto& row : rows) {
    Record r;
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) r.emplace_back(columns[i], std::move(row[i]));
    l.push_back(Value::record(std::move(r)));
  }
  return Value::list(std::move(l));
}

}  // namespace prov::plugin
