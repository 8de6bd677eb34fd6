#pragma once
/// The private channel between a workflow's runner and the Nu session that ran
/// it in the foreground: closures cannot be journaled or leave their session,
/// so a `nu` operation whose code is a closure holds only a reference
/// (`{session_closure: N}`) and the runner asks the session, over a unix socket
/// (0600) in the workflow's directory, to evaluate reference N. One connection
/// per request: a JSON line each way.

#include <functional>
#include <optional>
#include <string>

#include "core/graph/workflow_parse.hpp"  // closure_reference
#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/limits.hpp"

namespace prov {

/// What the runner asks: evaluate reference `ref` for `operation` with `input`
/// as its input.
struct ClosureRequest {
  int64_t ref = 0;
  std::string operation;
  Datum input;
};

/// The session's answer: ok, and the closure's output as text (for the
/// operation's log), or the closure's error as one message.
struct ClosureReply {
  bool ok = false;
  bool session_gone = false;  ///< nobody answered: the session that held the closure ended
  /// The error code when the request failed for a reason of its own: an answer over
  /// limits.message_size is `provisioning::limits::message_size` (the message names the limit
  /// and how to raise it).
  std::string code;
  std::string output;
  std::string message;
};

/// The session's end: listens at `path` while the session can evaluate its
/// closures; closes and removes the socket when destroyed.
class ClosureChannelServer {
 public:
  /// Throws ResourceError `provisioning::state::channel` when it cannot listen.
  explicit ClosureChannelServer(std::string path);
  ~ClosureChannelServer();
  ClosureChannelServer(const ClosureChannelServer&) = delete;
  ClosureChannelServer& operator=(const ClosureChannelServer&) = delete;

  /// Serves one waiting request with `eval`, if one waits; never blocks when
  /// none does. True when it served one.
  bool serve_one(const std::function<ClosureReply(const ClosureRequest&)>& eval);
  /// The listening socket: readable when a request waits, for a wait on several things.
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;  ///< the listening socket (non-blocking)
};

/// The runner's end: sends `req` to the session listening at `path` and waits
/// for its answer (or `cancel`). A session that is not there (no socket, nobody
/// listening, hung up) comes back as session_gone. The answer is read in time linear in its
/// size, up to `limits.message_size` bytes; a longer one fails with its code.
ClosureReply request_closure(const std::string& path, const ClosureRequest& req, CancelToken* cancel,
                             const Limits& limits = Limits::process());

}  // namespace prov
