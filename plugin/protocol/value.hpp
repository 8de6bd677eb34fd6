#pragma once
/// Nushell's `Value`, as the plugin protocol carries it: every variant with its span. Names follow
/// nu-protocol (`Value::Record`, `Span`, `LabeledError`, `CellPath`), so a Nushell reader
/// recognises them.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace prov::plugin {

/// A region of source text in the engine; errors point their labels at spans.
struct Span {
  uint64_t start = 0;
  uint64_t end = 0;
  static Span unknown() { return {}; }
  bool operator==(const Span&) const = default;
};

struct Value;
using Record = std::vector<std::pair<std::string, Value>>;

/// The end of a range: included, excluded or unbounded.
template <typename T>
struct Bound {
  enum class Kind { included, excluded, unbounded };
  Kind kind = Kind::unbounded;
  T value{};
  bool operator==(const Bound&) const = default;
};

/// `start..next..end` with integers or with floats (`step` = next - start).
struct Range {
  bool is_float = false;
  int64_t int_start = 0, int_step = 1;
  Bound<int64_t> int_end;
  double float_start = 0, float_step = 1;
  Bound<double> float_end;
  bool operator==(const Range&) const = default;
};

/// One member of a cell path: a column name or a row index.
struct PathMember {
  bool is_int = false;
  std::string name;    ///< when !is_int
  uint64_t index = 0;  ///< when is_int
  Span span;
  bool optional = false;
  bool case_insensitive = false;
  bool operator==(const PathMember&) const = default;
};

struct CellPath {
  std::vector<PathMember> members;
  bool operator==(const CellPath&) const = default;
};

/// A closure reference; only the engine can run it (EvalClosure).
struct Closure {
  uint64_t block_id = 0;
  std::vector<std::pair<uint64_t, Value>> captures;
  bool operator==(const Closure&) const;
};

/// A label pointing at a span, with text.
struct ErrorLabel {
  std::string text;
  Span span;
  bool operator==(const ErrorLabel&) const = default;
};

/// Nushell's LabeledError: what a plugin reports as a command error.
struct LabeledError {
  std::string msg;
  std::vector<ErrorLabel> labels;
  std::optional<std::string> code;
  std::optional<std::string> url;
  std::optional<std::string> help;
  std::vector<LabeledError> inner;
  bool operator==(const LabeledError&) const = default;
};

/// A plugin custom value: opaque bytes with a name.
struct CustomValue {
  std::string name;
  std::vector<uint8_t> data;
  bool notify_on_drop = false;
  bool operator==(const CustomValue&) const = default;
};

/// A Nushell value. `type` says which payload member is in use.
struct Value {
  enum class Type {
    Bool, Int, Float, Filesize, Duration, Date, Range, String, Glob, Record, List, Closure,
    Nothing, Error, Binary, CellPath, Custom
  };
  using Payload = std::variant<std::monostate, bool, int64_t, double, std::string, Range,
                               prov::plugin::Record, std::vector<Value>, prov::plugin::Closure,
                               LabeledError, std::vector<uint8_t>, prov::plugin::CellPath,
                               CustomValue>;

  Type type = Type::Nothing;
  Payload payload;
  Span span;
  bool glob_no_expand = false;  ///< for Glob

  static Value nothing(Span s = {}) { return {Type::Nothing, {}, s}; }
  static Value boolean(bool b, Span s = {}) { return {Type::Bool, b, s}; }
  static Value integer(int64_t i, Span s = {}) { return {Type::Int, i, s}; }
  static Value floating(double d, Span s = {}) { return {Type::Float, d, s}; }
  static Value filesize(int64_t bytes, Span s = {}) { return {Type::Filesize, bytes, s}; }
  static Value duration(int64_t nanos, Span s = {}) { return {Type::Duration, nanos, s}; }
  /// `rfc3339` must be RFC 3339 text with an offset.
  static Value date(std::string rfc3339, Span s = {}) { return {Type::Date, std::move(rfc3339), s}; }
  static Value string(std::string str, Span s = {}) { return {Type::String, std::move(str), s}; }
  static Value glob(std::string str, bool no_expand, Span s = {}) {
    Value v{Type::Glob, std::move(str), s};
    v.glob_no_expand = no_expand;
    return v;
  }
  static Value record(prov::plugin::Record r, Span s = {}) { return {Type::Record, std::move(r), s}; }
  static Value list(std::vector<Value> l, Span s = {}) { return {Type::List, std::move(l), s}; }
  static Value range(prov::plugin::Range r, Span s = {}) { return {Type::Range, r, s}; }
  static Value closure(prov::plugin::Closure c, Span s = {}) { return {Type::Closure, std::move(c), s}; }
  static Value error(LabeledError e, Span s = {}) { return {Type::Error, std::move(e), s}; }
  static Value binary(std::vector<uint8_t> b, Span s = {}) { return {Type::Binary, std::move(b), s}; }
  static Value cell_path(prov::plugin::CellPath c, Span s = {}) { return {Type::CellPath, std::move(c), s}; }
  static Value custom(CustomValue c, Span s = {}) { return {Type::Custom, std::move(c), s}; }

  bool is(Type t) const { return type == t; }
  int64_t as_int() const { return std::get<int64_t>(payload); }
  bool as_bool() const { return std::get<bool>(payload); }
  double as_float() const { return std::get<double>(payload); }
  /// The text of a String, Glob or Date.
  const std::string& as_string() const { return std::get<std::string>(payload); }
  const prov::plugin::Record& as_record() const { return std::get<prov::plugin::Record>(payload); }
  prov::plugin::Record& as_record() { return std::get<prov::plugin::Record>(payload); }
  const std::vector<Value>& as_list() const { return std::get<std::vector<Value>>(payload); }
  std::vector<Value>& as_list() { return std::get<std::vector<Value>>(payload); }
  const prov::plugin::CellPath& as_cell_path() const { return std::get<prov::plugin::CellPath>(payload); }
  const LabeledError& as_error() const { return std::get<LabeledError>(payload); }

  /// The value under `key` of a Record, or nullptr.
  const Value* get(std::string_view key) const;
  /// Nushell's type name: "record", "list<any>" is simplified to "list", "string", …
  std::string type_name() const;

  bool operator==(const Value&) const = default;
};

inline bool Closure::operator==(const Closure& o) const {
  return block_id == o.block_id && captures == o.captures;
}

}  // namespace prov::plugin
