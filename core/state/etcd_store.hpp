#pragma once
/// The etcd store: the WorkflowStore shared by several hosts, in etcd v3 under a key prefix.
///
/// Keys under the prefix P (values JSON unless said):
///   P/workflows/<id>/header            the journal's header (it exists: the workflow exists)
///   P/workflows/<id>/private           the private config kept apart from the journal
///   P/workflows/<id>/journal/<seq>     journal records {claim: writer's token, record}, seq zero-padded to 20 digits
///   P/workflows/<id>/checkpoint        a compacted journal: {header, records, through}
///   P/workflows/<id>/events/<seq>      event lines, as the runner appended them
///   P/workflows/<id>/claim             the runner's claim {token, host, pid}, bound to its lease
///   P/workflows/<id>/token             the last fencing token given
///   P/workflows/<id>/logs/<op>         the end of operation op's log and where the whole log is
///                                      (log_tail.hpp), kept when the operation ends
///   P/index/<id>                       one key per workflow, to list them
///   P/agents/<name>                    a live agent, bound to its lease
///   P/infra/servers/<name>             a managed server (prov infra)
///   P/infra/pending                    the apply whose results are not recorded yet
///   P/infra/lock                       the infrastructure lock's holder, bound to its lease
///
/// A claim is a key bound to a lease the holder keeps alive; when the holder dies or is cut
/// off past the lease's TTL, the key goes and another may claim. Every journal and event write
/// is a transaction that first compares the claim key's create revision with the holder's own,
/// so a holder that lost its claim writes nothing (fencing). Journal records are written in
/// batches, one transaction each (the group commit): a batch is in etcd whole or not at all.
/// When etcd leaves the lease's renewals unanswered past its TTL (quorum lost, no endpoint
/// reachable), writes fail with `provisioning::etcd::unavailable` and the runner stops, as on a
/// full disk; what it had written is whole, and the workflow is resumed later. What stays on this host (process
/// records, logs, the closure socket) is in the local state folder, as with the file store.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "core/etcd/etcd_client.hpp"
#include "core/state/state_dir.hpp"
#include "core/state/store_settings.hpp"
#include "core/state/workflow_store.hpp"

namespace prov {

struct EtcdStoreOptions {
  EtcdSettings etcd;
  std::string local_path;                      ///< this host's state folder (absolute)
  std::string workspace_root;
  std::string host;                            ///< this host's name; empty: gethostname()
};

class EtcdStore final : public WorkflowStore {
 public:
  explicit EtcdStore(EtcdStoreOptions options);
  ~EtcdStore() override;

  std::string describe() const override;
  const std::string& local_path() const override { return local_.path(); }
  std::string runner_locator() const override { return "etcd:" + local_.path(); }

  std::string create_workflow(const std::function<Datum(const std::string& id)>& header,
                              const Datum& private_config) override;
  std::vector<std::string> list_workflows() const override;
  void check_workflow_id(const std::string& id) const override;
  Journal::Recovery read_journal(const std::string& id) const override;
  std::optional<Datum> read_private_config(const std::string& id) const override;
  std::string private_config_location(const std::string& id) const override { return key(id, "private"); }

  std::unique_ptr<WorkflowClaim> claim(const std::string& id, std::chrono::milliseconds timeout) override;
  std::optional<ClaimHolder> claim_holder(const std::string& id) const override;

  OpenedJournal open_journal(WorkflowClaim& claim, Journal::TailRepair repair) override;
  std::unique_ptr<EventAppender> open_event_log(WorkflowClaim& claim) override;
  std::string damaged_journal_location(const std::string& id, uint64_t) const override { return key(id, "journal"); }

  std::vector<Event> read_events(const std::string& id) const override;
  std::unique_ptr<EventFeed> follow(const std::optional<std::string>& only) const override;

  LocalFiles local_files(const std::string& id) const override;
  void check_workflow_files(const std::string& id) const override;
  std::string operation_log_path(const std::string& id, const std::string& op) const override;
  UniqueFd open_operation_log(const std::string& id, const std::string& op) const override;
  OperationLog read_operation_log(const std::string& id, const std::string& op) const override;
  void keep_log_tail(WorkflowClaim& claim, const std::string& op) override;

  std::optional<ResourceError> storage_problem() const override;

  std::vector<ManagedServer> managed_servers() const override;
  void put_managed_server(const ManagedServer& server) override;
  void forget_managed_server(const std::string& name) override;
  std::optional<Datum> pending_apply() const override;
  void set_pending_apply(const std::optional<Datum>& apply) override;
  std::unique_ptr<InfraLock> lock_infra(std::chrono::milliseconds timeout, const std::string& purpose) override;

  std::unique_ptr<AgentRegistration> register_agent(const AgentRecord& agent) override;
  std::vector<AgentRecord> list_agents() const override;

  /// The key of `what` in workflow `id` ("header", "journal/", …).
  std::string key(const std::string& id, const std::string& what) const;
  EtcdClient& client() const { return *client_; }

 private:
  /// The local folder of workflow `id`, made (0700) when missing.
  void ensure_local(const std::string& id) const;

  EtcdStoreOptions options_;
  std::shared_ptr<EtcdClient> client_;
  StateDir local_;
};

}  // namespace prov
