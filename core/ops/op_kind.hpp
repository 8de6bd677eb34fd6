#pragma once
/// Operation kinds: what an operation of a workflow does when it runs and how it is undone.
/// One kind per file pair (command_op, nu_op, file_write_op, config_set_op, server_op), all
/// behind OpKind and found by name with find_kind(). Kinds only act: when to run, retry or
/// roll back is the scheduler's business, recording it the journal's.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph/workflow.hpp"
#include "core/ops/op_result.hpp"
#include "core/providers/provider.hpp"
#include "core/state/safe_dir.hpp"
#include "core/support/cancel.hpp"
#include "core/support/datum.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

/// Where and under which limits an operation runs; the same for its run and its rollback.
struct OpContext {
  std::string workspace;  ///< the workspace root; relative paths in fields resolve against it
  /// Process output, framed by a line before and after the action; created only when an
  /// action prints something or fails (a missing log reads as empty). Empty: none.
  std::string log_path;
  /// When set, the folder log_path lies in, held open: the log is opened through it by its
  /// last name, never through a symbolic link (safe_dir.hpp). Unset: log_path is opened as it is
  /// (still not through a link at its end).
  std::shared_ptr<const SafeDir> log_dir;
  /// Set by OpKind::run/rollback for the action: opens log_path (its header line first) and
  /// returns the descriptor output is appended to, as records (op_log.hpp); -1 when it cannot
  /// be opened.
  std::function<int()> open_log;
  /// The attempt the action's output belongs to, recorded with it in the log (op_log.hpp);
  /// nullopt for a rollback's.
  std::optional<int> attempt = 1;
  std::shared_ptr<const ChildEnv> base_env;  ///< what processes start from (Nu's env); null: this process's
  std::string nu_path = "nu";           ///< the Nu binary for `nu` operations (the hosting one)
  /// This plugin's binary: `nu` operations' Nu loads it (--plugins), so their code can call
  /// `prov` commands; empty: none is loaded.
  std::string nu_plugin;
  Duration timeout{0};                  ///< per run or rollback; 0: none
  CancelToken* cancel = nullptr;        ///< when it fires, running processes are stopped
  Duration kill_grace{5'000'000'000};   ///< between SIGTERM and SIGKILL to a process group
  /// Opens the workspace's provider `name` for server.* kinds (throws ProviderError
  /// provisioning::provider::unknown); unset where no providers are available.
  std::function<std::unique_ptr<Provider>(const std::string& name)> open_provider;
  /// The socket of the Nu session that holds the workflow's closures (closure_channel.hpp);
  /// empty: no session can evaluate closures here.
  std::string closure_channel;
  /// A private folder (0700, the workflow's) for undo data too sensitive for the journal, such
  /// as the secret a config.set replaced; empty: such data cannot be kept, and the kind says so.
  std::string private_dir;
  /// When set, the folder private_dir lies in, held open: private_dir is made and used through
  /// it, never through a symbolic link.
  std::shared_ptr<const SafeDir> private_parent;
  /// The folder where the running process of the action is recorded (process_record.hpp), so
  /// that a runner that follows a crash can stop it, and the record's name in it (from
  /// state_file_name()); unset or empty: not recorded.
  std::shared_ptr<const SafeDir> record_dir;
  std::string process_record;
  /// Whether another operation references this one's out: a command's stdout beyond
  /// kMaxOutBytes then fails it; otherwise its out is left null.
  bool out_referenced = true;
  /// Which configuration keys hold secrets (redact.hpp); empty: the default patterns.
  std::vector<std::string> secret_patterns;
};

/// One kind of operation. Kinds hold no state: one instance serves every thread at once.
class OpKind {
 public:
  virtual ~OpKind() = default;

  /// The name workflows use in `kind`.
  virtual std::string_view name() const = 0;

  /// Checks the operation's fields without side effects, against the kind's declaration
  /// (kind_fields.hpp) as the parser does, plus what only the kind knows. Throws WorkflowError
  /// with the parser's code (`provisioning::workflow::missing_field`, `::wrong_type`,
  /// `::bad_value`) naming the operation and the field, or (for what only the kind knows)
  /// `provisioning::workflow::invalid_field`.
  virtual void validate(const OperationSpec& op) const = 0;

  /// True when the operation has something to undo once it succeeded.
  virtual bool has_rollback(const OperationSpec& op) const = 0;

  /// Runs the operation once. Never throws: every failure (bad field, program missing, exit
  /// status, timeout, cancel, I/O) comes back as !ok with a code and a message.
  OpResult run(const OperationSpec& op, const OpContext& ctx) const;

  /// Undoes a successful run given its `undo`. Never throws, like run().
  OpResult rollback(const OperationSpec& op, const Datum& undo, const OpContext& ctx) const;

  /// Starts the operation without waiting for it, for kinds (and fields) that run a process:
  /// the caller's poll loop drives it to the same result run() would give (a failure to start
  /// comes back as an EndedOp). nullptr: the kind is an in-process call; use run(). `ctx` need
  /// not outlive the call. Never throws.
  std::unique_ptr<RunningOp> start(const OperationSpec& op, const OpContext& ctx) const;

 protected:
  /// The kind's own run and rollback; they may throw prov::Error, which run()/rollback()
  /// turn into a failed OpResult.
  virtual OpResult do_run(const OperationSpec& op, const OpContext& ctx) const = 0;
  virtual OpResult do_rollback(const OperationSpec& op, const Datum& undo,
                               const OpContext& ctx) const = 0;
  /// The kind's own start (start()); may throw prov::Error. Default: nullptr (in-process).
  virtual std::unique_ptr<RunningOp> do_start(const OperationSpec& op, const OpContext& ctx) const;
};

/// The built-in kind called `name`; nullptr when there is none.
const OpKind* find_kind(std::string_view name);

/// The names of every built-in kind, in the order DESIGN.md lists them.
std::vector<std::string_view> kind_names();

}  // namespace prov
