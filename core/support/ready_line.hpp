#pragma once
/// The one line a detached program (the runner, the service) tells its launcher through a pipe
/// once it is ready or why it cannot start: `{"ready": true, …}` or `{"code", "message", "help"}`.
/// Launcher and program talk; neither sleeps waiting for the other.
#include <chrono>
#include <string>

#include "core/support/datum.hpp"
#include "core/support/error.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

/// The program's end: says `line` once on `fd` (-1: nobody listens), then closes it.
class ReadyLine {
 public:
  explicit ReadyLine(int fd) : fd_(fd) {}
  /// `{"ready": true}` and the members of `extra` (a record, or null).
  void ready(const Datum& extra = Datum());
  /// The error that keeps the program from running.
  void failed(const Error& e);

 private:
  void say(const Datum& d);
  UniqueFd fd_;  ///< none once it has spoken
};

/// The launcher's end: waits up to `timeout` for the line on `fd` and returns it when it says
/// ready. Throws the error it carries (WorkflowError with its code), or ResourceError `code` with
/// the tail of `log` when the program ended without a word or did not answer in time; `what`
/// names the program ("the workflow runner").
Datum await_ready_line(int fd, const std::string& what, const std::string& log, std::chrono::seconds timeout,
                       const std::string& code);

}  // namespace prov
