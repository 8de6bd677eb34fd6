#pragma once
/// Limits that keep oversized or hostile input from exhausting memory, the stack or the
/// scheduler: the size of one protocol message, operations per workflow, nesting depth of
/// values, and items of an input stream. Each is configurable; going over one is a LimitError
/// that names the limit, the actual size and the key that raises it.
///
/// Where they come from, lowest first: built-in defaults, then the environment the plugin
/// starts with (PROVISIONING_LIMITS_MESSAGE_SIZE, _OPERATIONS, _DEPTH, _STREAM_LENGTH, and the
/// service's _REQUEST_SIZE, _CONNECTIONS, _STREAMS), then
/// the `[limits]` table of the workspace configuration where a command reads it.

#include <cstdint>
#include <functional>
#include <string>

#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov {

/// A limit was exceeded: code `provisioning::limits::<name>`.
class LimitError : public Error {
  using Error::Error;
};

struct Limits {
  int64_t message_size = int64_t{256} << 20;  ///< bytes of one protocol message (or collected byte stream)
  int64_t operations = 1'000'000;             ///< operations in one workflow
  int64_t depth = 64;                         ///< nesting of lists and records in a workflow or configuration
  int64_t stream_length = 1'000'000;          ///< items of a list stream a command reads as its input
  int64_t request_size = int64_t{8} << 20;    ///< bytes of one HTTP request body the service takes
  int64_t connections = 64;                   ///< HTTP connections the service serves at once
  int64_t streams = 32;                       ///< live event streams (SSE) the service keeps at once

  /// The defaults with PROVISIONING_LIMITS_<NAME> from `getenv` over them. Throws LimitError
  /// `provisioning::limits::bad_value` for a variable that is not a whole number above 0.
  static Limits from_environment(const std::function<const char*(const char*)>& getenv);
  /// This process's limits: from_environment(std::getenv), read once.
  static const Limits& process();
  /// These limits with the `limits` table of a merged configuration over them. Throws
  /// LimitError `provisioning::limits::bad_value` naming the key of a value that is not a whole
  /// number above 0.
  Limits with_config(const Datum& config) const;

  bool operator==(const Limits&) const = default;
};

/// Throws LimitError `provisioning::limits::depth` when `value` nests deeper than
/// `limits.depth`; `what` names it ("workflow deploy.toml"), the message names the key path
/// where it goes too deep. The error is blamed on `blame`.
void check_depth(const Datum& value, const Limits& limits, const std::string& what, Blame blame = {});
/// Throws LimitError `provisioning::limits::operations` when `count` is over `limits.operations`.
void check_operations(size_t count, const Limits& limits, const std::string& what, Blame blame = {});
/// Throws LimitError `provisioning::limits::stream_length` when `count` items is over `limits.stream_length`.
void check_stream_length(size_t count, const Limits& limits, Blame blame = {});
/// Throws LimitError `provisioning::limits::message_size` when `bytes` is over `limits.message_size`.
void check_message_size(size_t bytes, const Limits& limits, const std::string& what, Blame blame = {});

/// The help line of limit `name` ("operations"): the configuration key and the environment
/// variable that raise it (message_size: only the variable, read when the plugin starts).
std::string limit_help(const std::string& name);

}  // namespace prov
