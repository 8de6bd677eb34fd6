#pragma once
/// The one way an id becomes a file name in the state directory. Operation ids are chosen by
/// whoever writes a workflow: `.`, `..`, names over the file system's 255-byte limit and
/// characters some file systems refuse are all valid ids, so no id is used raw. Every place
/// that turns an id into a path (its log, its process record, its private undo file) goes
/// through state_file_name().

#include <string>
#include <string_view>

namespace prov {

/// The file name that stands for `id`: letters, digits, `_` and `-` as they are; `.` as it is
/// except in front; every other byte (a leading `.`, `/`, `%`, `:`, control and non-ASCII
/// bytes) as `%XX` (upper-case hex). A name longer than 200 bytes is cut (never inside a
/// `%XX`) and ends in `~` and 16 hex digits of a 64-bit hash of the whole id, so the result is
/// at most 200 bytes: room for a suffix such as ".log" within any file system's limit.
/// Distinct ids give distinct names (cut names: up to a 64-bit hash collision); the result is
/// never empty, `.` or `..`, and holds no `/`.
std::string state_file_name(std::string_view id);

/// The name of operation `op_id`'s output log in a workflow's logs/ folder.
std::string operation_log_name(std::string_view op_id);

}  // namespace prov
