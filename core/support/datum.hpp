#pragma once
/// A structured value of the core: what configuration files, workflow files and records from
/// Nushell become before the core works on them. Knows nothing of Nushell's wire format.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace prov {

struct Datum;

/// An insertion-ordered list of key/value pairs; keys are unique.
using DatumRecord = std::vector<std::pair<std::string, Datum>>;
using DatumList = std::vector<Datum>;

/// A point in time as RFC 3339 text ("1979-05-27T07:32:00-08:00"), kept as text so that no
/// precision or offset is lost between TOML, the core and Nushell.
struct DateTime {
  std::string rfc3339;
  bool operator==(const DateTime&) const = default;
};

/// A length of time in nanoseconds.
struct Duration {
  int64_t nanos = 0;
  bool operator==(const Duration&) const = default;
};

/// Null, bool, int, float, string, date, duration, list or record; records keep key order.
struct Datum {
  using Variant = std::variant<std::monostate, bool, int64_t, double, std::string, DateTime,
                               Duration, DatumList, DatumRecord>;
  Variant v;

  Datum() = default;
  Datum(std::nullptr_t) {}
  Datum(bool b) : v(b) {}
  Datum(int i) : v(int64_t{i}) {}
  Datum(int64_t i) : v(i) {}
  Datum(double d) : v(d) {}
  Datum(const char* s) : v(std::string(s)) {}
  Datum(std::string s) : v(std::move(s)) {}
  Datum(DateTime d) : v(std::move(d)) {}
  Datum(Duration d) : v(d) {}
  Datum(DatumList l) : v(std::move(l)) {}
  Datum(DatumRecord r) : v(std::move(r)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  bool is_record() const { return std::holds_alternative<DatumRecord>(v); }
  bool is_list() const { return std::holds_alternative<DatumList>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  const DatumRecord& record() const { return std::get<DatumRecord>(v); }
  DatumRecord& record() { return std::get<DatumRecord>(v); }
  const DatumList& list() const { return std::get<DatumList>(v); }
  DatumList& list() { return std::get<DatumList>(v); }
  const std::string& str() const { return std::get<std::string>(v); }

  /// The value under `key` of a record, or nullptr when absent or not a record.
  const Datum* find(std::string_view key) const;
  Datum* find(std::string_view key);
  /// Sets `key` in a record (appending when new); the datum must be a record.
  void set(std::string key, Datum value);

  /// Nushell's name for the type: "record", "list", "string", "int", …
  std::string type_name() const;
  /// type_name() with its article, for messages: "an int", "a string".
  std::string a_type_name() const;

  bool operator==(const Datum&) const = default;
};

/// Renders a scalar as text the way a user wrote it ("42", "true", "1.5"); records and lists
/// as compact JSON-like text. Used for messages and string interpolation.
std::string to_display(const Datum& d);

}  // namespace prov
