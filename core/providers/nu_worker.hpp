#pragma once
/// Long-lived Nu processes that run Nu-module providers. A worker is `nu` running
/// nu/provider_worker.nu (embedded at build time) with the module's `nulib/` on its library path;
/// it reads requests as JSON lines on its stdin and answers on its file descriptor 3, so
/// whatever the module prints cannot be taken for an answer. Data crosses as JSON values, never
/// as Nu code. A process-wide pool keeps one warm worker per module and Nu binary.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/spawn.hpp"

namespace prov {

/// The Nu source of the worker loop (nu/provider_worker.nu as it was at build time).
extern const char* const kProviderWorkerScript;

/// What a worker runs: the Nu binary and the module directory (which holds nulib/provider.nu).
struct NuWorkerKey {
  std::string nu_path;
  std::string module_dir;
  auto operator<=>(const NuWorkerKey&) const = default;
};

/// One call of a provider module's command.
struct NuCall {
  std::string provider;  ///< the provider's name, for messages
  std::string method;    ///< list-servers, create-server, get-server, delete-server, test-connectivity
  Datum args = DatumRecord{};     ///< {spec: …} for create-server, {id: …} for get/delete-server
  Datum context = DatumRecord{};  ///< what the module sees as $env.PROVISIONING_PROVIDER
  Duration timeout{30'000'000'000};  ///< from sending the request (and starting the process)
  CancelToken* cancel = nullptr;     ///< when it fires, the worker is stopped
};

/// One Nu process serving one provider module, started on first use and restarted when it has
/// died. Calls are serialized: one request at a time, from any thread.
class NuWorker {
 public:
  /// Nothing starts yet. `env` is the environment of the processes it starts (nullopt: ours).
  NuWorker(NuWorkerKey key, std::optional<Environment> env);
  /// Stops the process and its group.
  ~NuWorker();
  NuWorker(const NuWorker&) = delete;
  NuWorker& operator=(const NuWorker&) = delete;

  /// Sends `call` and returns the module command's return value. Throws ProviderError:
  ///   provisioning::provider::failed        the module raised an error (its message), or the
  ///                                         process could not start or died (its last output)
  ///   provisioning::provider::timeout       no answer within call.timeout; the process group
  ///                                         is killed and the next call starts a new one
  ///   provisioning::provider::bad_response  the answer was not one JSON line of the protocol
  ///   provisioning::provider::cancelled     call.cancel fired; the process group is killed
  Datum call(const NuCall& call);

  /// The running process's pid (also its process group id); 0 when none runs.
  pid_t pid() const { return pid_.load(); }
  /// When the last call ended (or began, while one runs); nullopt before the first call.
  std::optional<std::chrono::steady_clock::time_point> last_used() const;
  const NuWorkerKey& key() const { return key_; }
  /// Stops the process if it runs; the next call starts a new one.
  void stop();
  /// SIGKILL to the process group without waiting for a call in progress: for process exit.
  void kill_now();

 private:
  void start(const std::string& provider);  ///< requires mutex_
  void reap_and_close();                    ///< requires mutex_; the process is dead or killed
  bool exited();                            ///< requires mutex_; never reaps
  void drain_log();                         ///< requires mutex_; reads what is there, no waiting
  /// Requires mutex_; reaps; "exited with status 1 <when>: <its last output>".
  std::string describe_exit(const std::string& when);

  const NuWorkerKey key_;
  const std::shared_ptr<const ChildEnv> env_;  ///< nullptr: ours
  std::mutex mutex_;                 ///< held for a whole call
  Child child_;                      ///< in a process group of its own; requires mutex_
  std::atomic<pid_t> pid_{0};        ///< child_'s pid while it is unreaped, else 0: for kill_now
  UniqueFd request_;                 ///< our end of the child's stdin (a socket)
  UniqueFd answer_;                  ///< our end of the child's fd 3
  UniqueFd log_;                     ///< our end of the child's stdout and stderr (non-blocking)
  std::string log_tail_;             ///< the last few KiB of the child's output
  int64_t next_id_ = 1;
  std::atomic<int64_t> last_used_{0};  ///< steady-clock nanoseconds of the last call; 0: none yet
};

/// The process-wide set of workers, one per key. Thread-safe.
class NuWorkerPool {
 public:
  /// The pool of this process. Its workers are killed when the process exits normally; when it
  /// dies otherwise, they see their stdin end and exit after the call in progress.
  static NuWorkerPool& shared();

  /// The worker for `key`, created (not started) on first request with the environment `env()`
  /// gives (asked only then).
  std::shared_ptr<NuWorker> worker(const NuWorkerKey& key,
                                   const std::function<std::optional<Environment>()>& env);
  /// Stops every worker and forgets them.
  void clear();
  /// SIGKILL to every worker's group, waiting for nothing.
  void kill_all_now();
  /// When a running worker was last used; nullopt when none runs.
  std::optional<std::chrono::steady_clock::time_point> last_used();

 private:
  std::mutex mutex_;
  std::map<NuWorkerKey, std::shared_ptr<NuWorker>> workers_;
};

}  // namespace prov
