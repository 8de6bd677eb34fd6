#pragma once
/// A workspace's state directory (`<workspace>/.provisioning` unless `paths.state` says
/// otherwise) and where everything lives in it:
///   lock                          the workspace lock
///   workflows/<id>/journal        the workflow's journal (journal.hpp)
///   workflows/<id>/events.jsonl   its event log
///   workflows/<id>/logs/          output of its operations
///   workflows/<id>/runner.lock    held by the one process running it
///   workflows/<id>/running/       records of the processes its operations run now
///   workflows/<id>/undo/          undo data too sensitive for the journal
/// An operation id is never used raw in a file name: state_file_name() (state_name.hpp) encodes it.
/// Directories are 0700 and files 0600, whatever the umask.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/state/file_io.hpp"
#include "core/state/lock.hpp"
#include "core/state/safe_dir.hpp"
#include "core/state/workflow_store.hpp"
#include "core/support/error.hpp"

namespace prov {


/// An existing, safe state directory and the paths of its layout.
class StateDir {
 public:
  /// Opens the state directory at absolute `path` of the workspace at `workspace_root`,
  /// creating it and missing parents 0700. Throws ResourceError `provisioning::state::unsafe_path`
  /// when it is not a directory, or is a symlink, or lies inside the workspace below one,
  /// that leads out of the workspace.
  static StateDir open(const std::string& path, const std::string& workspace_root);

  /// The state directory, as given (lexically normalised, no trailing slash).
  const std::string& path() const { return path_; }
  std::string workspace_lock_path() const { return path_ + "/lock"; }
  std::string workflows_dir() const { return path_ + "/workflows"; }
  /// The paths of workflow `id`'s files; `id` must satisfy is_workflow_id().
  std::string workflow_dir(const std::string& id) const { return workflows_dir() + "/" + id; }
  std::string journal_path(const std::string& id) const { return workflow_dir(id) + "/journal"; }
  std::string events_path(const std::string& id) const {
    return workflow_dir(id) + "/events.jsonl";
  }
  std::string logs_dir(const std::string& id) const { return workflow_dir(id) + "/logs"; }
  std::string runner_lock_path(const std::string& id) const {
    return workflow_dir(id) + "/runner.lock";
  }
  /// Records of the processes its operations run now (process_record.hpp).
  std::string running_dir(const std::string& id) const { return workflow_dir(id) + "/running"; }
  /// Undo data kept out of the journal because it holds secrets (0700, files 0600).
  std::string private_undo_dir(const std::string& id) const { return workflow_dir(id) + "/undo"; }
  /// The secret values of the workflow's configuration snapshot, kept out of its journal (0600).
  std::string config_secrets_path(const std::string& id) const { return workflow_dir(id) + "/config-secrets.json"; }
  /// Where the foreground session that ran workflow `id` listens for closure requests.
  std::string closure_socket_path(const std::string& id) const { return workflow_dir(id) + "/closures.sock"; }
  /// The output log of operation `op` of workflow `id` (its name: operation_log_name()).
  std::string operation_log_path(const std::string& id, const std::string& op) const;
  /// The record of the process operation `op` of workflow `id` runs (its name: state_file_name()).
  std::string process_record_path(const std::string& id, const std::string& op) const;

  /// Workflow `id`'s folder, opened through workflows/ without following a link (safe_dir.hpp).
  /// Throws ResourceError `provisioning::state::unsafe_path` when either is a link or not a
  /// directory (or `id` is not a workflow id), `provisioning::state::io` when it is missing.
  SafeDir open_workflow(const std::string& id) const;

  /// Checks that nothing in workflow `id`'s folder is a symbolic link: its files (journal, event
  /// log, runner log, locks, socket), its logs/, running/ and undo/ folders and their files.
  /// Throws ResourceError `provisioning::state::unsafe_path` naming the first one found, so that
  /// nothing is written, read or removed through it. Runners check before they start.
  void check_workflow_files(const std::string& id) const;

  /// The captured output of operation `op` of workflow `id`; empty when it has none. Read
  /// through the workflow's folder, never through a link (throws unsafe_path then).
  std::string read_operation_log(const std::string& id, const std::string& op) const;
  /// The same log open for reading (to stream it); an empty descriptor when it has none.
  UniqueFd open_operation_log(const std::string& id, const std::string& op) const;

  /// Makes the directory of a new workflow (with its logs/) under a fresh id, durably, and
  /// returns the id. Files in it are the caller's to create.
  std::string create_workflow() const;

  /// The ids of the workflows here, newest first (ids made in the same second: by id,
  /// descending). Entries that are not workflow directories, and workflow directories with no
  /// journal yet (a submit in progress), are ignored.
  std::vector<std::string> list_workflows() const;

  /// Returns when `id`, as a user gave it, names a workflow here. Otherwise throws WorkflowError
  /// `provisioning::workflow::unknown_id`, whose help suggests the nearest existing ids.
  void check_workflow_id(const std::string& id) const;

  /// Why nothing can be written here now, when that is so: ResourceError
  /// `provisioning::state::read_only` (a read-only file system) or `provisioning::state::disk_full`
  /// (less than `min_free` bytes free), naming the directory. Explains a runner that stopped.
  std::optional<ResourceError> storage_problem(uint64_t min_free = 64 * 1024) const;

  /// The workspace lock, waiting up to `timeout`; throws ResourceError
  /// `provisioning::state::locked` naming the holder's pid.
  FileLock lock_workspace(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const;

  /// The runner lock of workflow `id`, so two runners never execute it at once; throws
  /// ResourceError `provisioning::state::locked` naming the holder's pid.
  FileLock lock_runner(const std::string& id,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const;

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;  ///< an existing directory, absolute, checked by open()
};

}  // namespace prov
