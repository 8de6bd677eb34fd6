#pragma once
/// The file store: the WorkflowStore of one host, in a workspace's state folder (state_dir.hpp has
/// the layout). A workflow's claim is the flock on its runner.lock, which the kernel lets go when
/// the holder dies, so a live holder never loses it; the fencing token is a counter kept in the
/// workflow's folder, raised at each claim. Managed infrastructure lives in `infra/`: one JSON
/// file per managed server in `infra/servers/` (its name through state_file_name), the pending
/// apply in `infra/pending.json`, the lock `infra/lock` with its holder in `infra/lock.holder`.
#include <memory>
#include <string>

#include "core/state/state_dir.hpp"
#include "core/state/workflow_store.hpp"

namespace prov {

class FileStore final : public WorkflowStore {
 public:
  /// Opens the state folder at absolute `path` of the workspace at `workspace_root` (StateDir::open).
  FileStore(const std::string& path, const std::string& workspace_root);
  explicit FileStore(StateDir state) : state_(std::move(state)) {}

  std::string describe() const override { return "the state folder " + state_.path(); }
  const std::string& local_path() const override { return state_.path(); }
  std::string runner_locator() const override { return state_.path(); }

  std::string create_workflow(const std::function<Datum(const std::string& id)>& header,
                              const Datum& private_config) override;
  std::vector<std::string> list_workflows() const override { return state_.list_workflows(); }
  void check_workflow_id(const std::string& id) const override { state_.check_workflow_id(id); }
  Journal::Recovery read_journal(const std::string& id) const override;
  std::optional<Datum> read_private_config(const std::string& id) const override;
  std::string private_config_location(const std::string& id) const override {
    return state_.config_secrets_path(id);
  }

  std::unique_ptr<WorkflowClaim> claim(const std::string& id, std::chrono::milliseconds timeout) override;
  std::optional<ClaimHolder> claim_holder(const std::string& id) const override;

  OpenedJournal open_journal(WorkflowClaim& claim, Journal::TailRepair repair) override;
  std::unique_ptr<EventAppender> open_event_log(WorkflowClaim& claim) override;
  std::string damaged_journal_location(const std::string& id, uint64_t offset) const override {
    return state_.journal_path(id) + ".damaged-" + std::to_string(offset);
  }

  std::vector<Event> read_events(const std::string& id) const override;
  std::unique_ptr<EventFeed> follow(const std::optional<std::string>& only) const override;

  LocalFiles local_files(const std::string& id) const override;
  void check_workflow_files(const std::string& id) const override { state_.check_workflow_files(id); }
  std::string operation_log_path(const std::string& id, const std::string& op) const override {
    return state_.operation_log_path(id, op);
  }
  UniqueFd open_operation_log(const std::string& id, const std::string& op) const override {
    return state_.open_operation_log(id, op);
  }
  /// The whole log: it is on this host.
  OperationLog read_operation_log(const std::string& id, const std::string& op) const override {
    return OperationLog::here(state_.open_operation_log(id, op));
  }

  std::vector<ManagedServer> managed_servers() const override;
  void put_managed_server(const ManagedServer& server) override;
  void forget_managed_server(const std::string& name) override;
  std::optional<Datum> pending_apply() const override;
  void set_pending_apply(const std::optional<Datum>& apply) override;
  std::unique_ptr<InfraLock> lock_infra(std::chrono::milliseconds timeout, const std::string& purpose) override;

  std::optional<ResourceError> storage_problem() const override { return state_.storage_problem(); }

  const StateDir& state_dir() const { return state_; }

 private:
  StateDir state_;
};

}  // namespace prov
