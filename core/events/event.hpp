#pragma once
/// What happens to a workflow, as records: when, which workflow, what type, and where they
/// apply the operation, attempt, exit code, duration, message and resource. The same record
/// goes to the in-process bus, the per-workflow event log and Nushell.

#include <optional>
#include <string>

#include "core/support/datum.hpp"

namespace prov {

/// Event types (DESIGN.md): workflow_*, operation_*, rollback_*, resource_*, configuration_changed.
/// (rollback_step_started marks an undo step in flight, so that a crash in it is reported.)
namespace event_type {
inline constexpr const char* workflow_started = "workflow_started";
inline constexpr const char* workflow_completed = "workflow_completed";
inline constexpr const char* workflow_failed = "workflow_failed";
inline constexpr const char* workflow_cancelled = "workflow_cancelled";
inline constexpr const char* workflow_resumed = "workflow_resumed";
inline constexpr const char* operation_started = "operation_started";
inline constexpr const char* operation_succeeded = "operation_succeeded";
inline constexpr const char* operation_failed = "operation_failed";
inline constexpr const char* operation_retrying = "operation_retrying";
inline constexpr const char* operation_skipped = "operation_skipped";
inline constexpr const char* rollback_started = "rollback_started";
inline constexpr const char* rollback_step_started = "rollback_step_started";  ///< journaled before the undo runs
inline constexpr const char* rollback_step = "rollback_step";
inline constexpr const char* rollback_completed = "rollback_completed";
inline constexpr const char* resource_created = "resource_created";
inline constexpr const char* resource_deleted = "resource_deleted";
inline constexpr const char* configuration_changed = "configuration_changed";
inline constexpr const char* journal_repaired = "journal_repaired";
}  // namespace event_type

struct Event {
  DateTime time;
  std::string workflow_id;
  std::string type;
  std::optional<std::string> operation;
  std::optional<int64_t> attempt;
  std::optional<int64_t> exit_code;
  std::optional<Duration> duration;
  std::optional<std::string> message;
  std::optional<Datum> resource;
  /// Extra fields some types carry (a summary for workflow_completed/failed, …).
  std::optional<Datum> details;

  /// A record with only the fields that apply, in a fixed order.
  Datum to_datum() const;
  /// Reads a record written by to_datum(); throws ResourceError on a malformed one.
  static Event from_datum(const Datum& d);
};

/// Now, in UTC, as RFC 3339 with nanoseconds.
DateTime now_utc();
/// The time `ns` nanoseconds after the Unix epoch, as now_utc() writes it.
DateTime utc_time(int64_t ns);
/// The nanoseconds after the Unix epoch of a time utc_time() wrote; nullopt for any other text.
std::optional<int64_t> utc_nanos(const DateTime& t);

}  // namespace prov
