#pragma once
/// The store: everything the core keeps about workflows goes through this interface — creating a
/// workflow from a submission, its journal (appended under a claim, with a fencing check), its
/// history, the runner's claim, its events (appended, read, followed), its operations' logs, and
/// the list of workflows. `core/engine` and `plugin/` see only this; the file store under
/// `.provisioning/` (file_store.hpp) is the implementation today, and a second one (a shared store)
/// is added by implementing these classes, without touching the engine or the commands.
///
/// What stays on the host that runs a workflow whatever the store (LocalFiles): the records of the
/// processes its operations run, its closure socket, the private undo folder and the full output
/// of its operations.
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "core/events/event.hpp"
#include "core/state/file_io.hpp"
#include "core/state/journal.hpp"
#include "core/state/managed_server.hpp"
#include "core/state/safe_dir.hpp"
#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov {

/// A new workflow id, "wf-YYYYMMDD-HHMMSS-xxxxxx": `time` in UTC and 6 random hex digits, so
/// that ids sort by the second they were made in.
std::string new_workflow_id(
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now());

/// True when `id` has the shape new_workflow_id() makes (so it holds no `/` and no `..`).
bool is_workflow_id(std::string_view id);

/// The WorkflowError `provisioning::workflow::unknown_id` for `id`, which is none of `ids` (the
/// workflows of `where`): it says whether `id` is not an id at all, and suggests the nearest ids.
WorkflowError unknown_workflow_id(const std::string& id, const std::vector<std::string>& ids, const std::string& where);

/// A runner's hold on one workflow. While it is valid, its holder alone appends to the
/// workflow's journal and event log; every append checks it first (fencing), so a holder that
/// lost its claim (a shared store's lease ran out) cannot write after another took over.
class WorkflowClaim {
 public:
  virtual ~WorkflowClaim() = default;
  virtual const std::string& workflow_id() const = 0;
  /// The fencing token: larger than every earlier claim's on this workflow.
  virtual uint64_t token() const = 0;
  /// True while the claim is still this holder's.
  virtual bool valid() const = 0;
  /// Lets go of the claim (once; later calls do nothing).
  virtual void release() = 0;
};

/// Who holds a workflow's claim now.
struct ClaimHolder {
  std::optional<int64_t> pid;  ///< the holding process, when recorded (only for messages and signals)
  std::string host;            ///< where it runs; empty: this host
};

/// A claimed workflow's journal open to append, with journal.hpp's semantics (records durable
/// once wait_durable returns; concurrent appenders share one sync). Appends throw ResourceError
/// `provisioning::state::claim_lost` once the claim is no longer valid.
class JournalWriter {
 public:
  virtual ~JournalWriter() = default;
  /// Appends a record already encoded with encode_json; returns its sequence number (from 1).
  virtual uint64_t append_encoded(const std::string& json) = 0;
  /// The sequence number up to which records are durable.
  virtual uint64_t durable_seq() const = 0;
  /// Returns once record `seq` and every earlier one is durable.
  virtual void wait_durable(uint64_t seq) = 0;
  /// wait_durable() for everything appended so far.
  virtual void sync() = 0;
  /// Replaces the journal by `header` and `records` (a checkpoint), atomically.
  virtual void compact(const Datum& header, const std::vector<Datum>& records) = 0;
  /// Throws what an append would once the claim is no longer valid (the check every append
  /// makes first); returns otherwise.
  virtual void check_claim() const = 0;
  uint64_t append(const Datum& record);
};

/// A claimed workflow's journal and what it held when opened.
struct OpenedJournal {
  std::unique_ptr<JournalWriter> writer;
  Journal::Recovery recovery;
};

/// A claimed workflow's event log, as its runner appends it: whole lines, in order.
class EventAppender {
 public:
  virtual ~EventAppender() = default;
  /// Appends `lines` (encode_json of Event::to_datum(), each ending in '\n') in one write.
  virtual void append_lines(const std::string& lines) = 0;
  void append(const Event& e);
};

/// Events as they are appended: of one workflow, or of every workflow of the store (those that
/// appear later included). poll() never waits; wait() sleeps until there may be more.
class EventFeed {
 public:
  virtual ~EventFeed() = default;
  /// The events appended since the last call (all of them the first time), oldest first; of
  /// several workflows, in time order, each workflow's in its own order.
  virtual std::vector<Event> poll() = 0;
  /// As poll(), and surely every event appended before this call: a feed fed by a watch may
  /// deliver later than a direct read sees (for the etcd store, that a runner let go). For
  /// the last read after a runner was found gone.
  virtual std::vector<Event> poll_settled() { return poll(); }
  /// Also wakes wait() when the runner that holds workflow `id` now lets go of it.
  virtual void watch_runner(const std::string& id) = 0;
  /// Blocks until the feed may have grown, a watched runner let go, one of `fds` (-1s ignored)
  /// is readable, or `timeout` passed; false on the timeout.
  virtual bool wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds = {}) = 0;
};

/// A session's hold on a workspace's managed infrastructure (`prov infra`): while one holder has
/// it, nobody else plans an apply, records managed servers or starts an apply's workflow.
class InfraLock {
 public:
  virtual ~InfraLock() = default;
  /// Lets go (once; later calls do nothing).
  virtual void release() = 0;
};

/// What stays on this host for a workflow it runs (or ran), whatever the store: opened without
/// following links (safe_dir.hpp), made 0700.
struct LocalFiles {
  std::shared_ptr<const SafeDir> folder;   ///< the workflow's own folder on this host
  std::shared_ptr<const SafeDir> running;  ///< records of the processes its operations run now
  std::shared_ptr<const SafeDir> logs;     ///< its operations' output
  std::string closure_socket;              ///< where the session that runs it serves closures
  std::string private_undo_dir;            ///< undo data too sensitive for the journal
  std::string runner_log;                  ///< the runner's own stderr
};

/// How much of each operation's log a shared store keeps for other hosts: its last bytes, up to
/// this many, from the start of a line.
inline constexpr size_t kLogTailBytes = size_t{64} << 10;

/// An operation's output as this host can read it (WorkflowStore::read_operation_log).
struct OperationLog {
  UniqueFd fd;             ///< what there is to read, from its start; empty: no output known here
  std::string host;        ///< not empty: fd holds a copy of a log written on that host (or
                           ///< in another copy of the workspace)
  std::string path;        ///< with host: the whole log's path there
  uint64_t size = 0;       ///< with host: the whole log's size in bytes
  bool tail_only = false;  ///< with host: the copy holds only the log's end (kLogTailBytes at most)

  /// A log on this host, open on `fd` (or none).
  static OperationLog here(UniqueFd fd) {
    OperationLog log;
    log.fd = std::move(fd);
    return log;
  }
};

/// An agent (`nu_plugin_provisioning agent`) as the store knows it.
struct AgentRecord {
  std::string name;
  std::string host;
  int64_t pid = 0;
  std::string started;               ///< RFC 3339
  std::vector<std::string> running;  ///< the workflows its runners hold now
};

/// An agent's registration in a shared store: present while the agent lives (a lease it keeps
/// alive), gone soon after it dies.
class AgentRegistration {
 public:
  virtual ~AgentRegistration() = default;
  /// False once the store let the registration go (the agent was cut off past its lease).
  virtual bool valid() const = 0;
  /// Records the workflows its runners hold now.
  virtual void update(const std::vector<std::string>& running) = 0;
};

/// The store of a workspace's workflows. Thread-safe for readers; writers of one workflow hold
/// its claim.
class WorkflowStore {
 public:
  virtual ~WorkflowStore() = default;

  /// What it is and where, for messages ("the state folder /ws/.provisioning").
  virtual std::string describe() const = 0;
  /// The folder on this host that holds host-local state (provider state, local files).
  virtual const std::string& local_path() const = 0;
  /// How a runner process reopens this store: the arguments after `--runner MODE WORKSPACE`.
  virtual std::string runner_locator() const = 0;

  // --- workflows -------------------------------------------------------------------------------
  /// Creates a workflow under a fresh id: `header(id)` becomes its journal's header and
  /// `private_config` (unless null) is kept where only its owner can read it, never in the
  /// journal. It appears whole or not at all. Returns the id.
  virtual std::string create_workflow(const std::function<Datum(const std::string& id)>& header,
                                      const Datum& private_config) = 0;
  /// The ids of the workflows, newest first.
  virtual std::vector<std::string> list_workflows() const = 0;
  /// Returns when `id`, as a user gave it, names a workflow here; otherwise throws WorkflowError
  /// `provisioning::workflow::unknown_id` suggesting the nearest ids.
  virtual void check_workflow_id(const std::string& id) const = 0;
  /// The journal of workflow `id` as it is now (Journal::read's rules: a torn tail reported,
  /// corruption thrown).
  virtual Journal::Recovery read_journal(const std::string& id) const = 0;
  /// What create_workflow kept as `private_config`; nullopt when it kept nothing.
  virtual std::optional<Datum> read_private_config(const std::string& id) const = 0;
  /// Where the private config of `id` is kept, for messages.
  virtual std::string private_config_location(const std::string& id) const = 0;

  // --- claims ----------------------------------------------------------------------------------
  /// Claims workflow `id` for a runner, waiting up to `timeout` for a holder to let go. Throws
  /// ResourceError `provisioning::state::locked` naming the holder.
  virtual std::unique_ptr<WorkflowClaim> claim(const std::string& id, std::chrono::milliseconds timeout) = 0;
  /// Who holds workflow `id`'s claim; nullopt when nobody does.
  virtual std::optional<ClaimHolder> claim_holder(const std::string& id) const = 0;

  // --- a claimed workflow ------------------------------------------------------------------------
  /// Opens the claimed workflow's journal to append after its last intact record, repairing as
  /// `repair` says (journal.hpp).
  virtual OpenedJournal open_journal(WorkflowClaim& claim, Journal::TailRepair repair) = 0;
  /// The claimed workflow's event log, to append to.
  virtual std::unique_ptr<EventAppender> open_event_log(WorkflowClaim& claim) = 0;
  /// Where the damaged tail that open_journal cut off was kept, for messages.
  virtual std::string damaged_journal_location(const std::string& id, uint64_t offset) const = 0;

  // --- events ----------------------------------------------------------------------------------
  /// Every event of workflow `id`'s log so far.
  virtual std::vector<Event> read_events(const std::string& id) const = 0;
  /// A feed of workflow `only`'s events, or of every workflow's when nullopt.
  virtual std::unique_ptr<EventFeed> follow(const std::optional<std::string>& only) const = 0;

  // --- logs and host-local files -----------------------------------------------------------------
  /// This host's files of workflow `id` (LocalFiles), its folders made when missing. Throws
  /// ResourceError `provisioning::state::unsafe_path` when anything there is a link.
  virtual LocalFiles local_files(const std::string& id) const = 0;
  /// Checks that nothing in workflow `id`'s files is a link; throws unsafe_path naming it.
  virtual void check_workflow_files(const std::string& id) const = 0;
  /// Where operation `op`'s output goes (a file on this host).
  virtual std::string operation_log_path(const std::string& id, const std::string& op) const = 0;
  /// Operation `op`'s output open for reading; an empty descriptor when it has none.
  virtual UniqueFd open_operation_log(const std::string& id, const std::string& op) const = 0;
  /// Operation `op`'s output as this host can read it: its whole log when that is on this host;
  /// otherwise (a shared store) the tail keep_log_tail kept, naming the host and path of the
  /// whole log; an empty descriptor when there is neither.
  virtual OperationLog read_operation_log(const std::string& id, const std::string& op) const = 0;
  /// Keeps the end of operation `op`'s log, written on this host, where other hosts can read it
  /// (a shared store: its last kLogTailBytes, under the claim's fencing). The file store, all on
  /// one host, keeps nothing more.
  virtual void keep_log_tail(WorkflowClaim& claim, const std::string& op);

  // --- managed infrastructure (prov infra) ----------------------------------------------------
  /// The servers the workspace manages, by name.
  virtual std::vector<ManagedServer> managed_servers() const = 0;
  /// Records `server` under its name (replacing what was there), durably.
  virtual void put_managed_server(const ManagedServer& server) = 0;
  /// Forgets the managed server `name`; nothing there is fine.
  virtual void forget_managed_server(const std::string& name) = 0;
  /// The apply whose results are not yet recorded (core/infra/apply_record.hpp says what it
  /// holds); nullopt when none.
  virtual std::optional<Datum> pending_apply() const = 0;
  /// Records (or, with nullopt, clears) the pending apply, durably.
  virtual void set_pending_apply(const std::optional<Datum>& apply) = 0;
  /// Takes the workspace's infrastructure lock, waiting up to `timeout`; `purpose` (such as
  /// "prov infra apply") is shown to whoever finds it held. Throws ResourceError
  /// `provisioning::state::locked` naming the holder's pid, host and purpose.
  virtual std::unique_ptr<InfraLock> lock_infra(std::chrono::milliseconds timeout, const std::string& purpose) = 0;

  // --- agents (shared stores) ---------------------------------------------------------------------
  /// Registers an agent. Throws ConfigError `provisioning::agent::needs_shared_store` for a
  /// store of one host, ResourceError `provisioning::agent::name_taken` when a live agent has
  /// that name.
  virtual std::unique_ptr<AgentRegistration> register_agent(const AgentRecord& agent);
  /// The live agents, by name; none for a store of one host.
  virtual std::vector<AgentRecord> list_agents() const { return {}; }

  // --- health ----------------------------------------------------------------------------------
  /// Why nothing can be written now, when that is so (a full or read-only store).
  virtual std::optional<ResourceError> storage_problem() const = 0;
};

}  // namespace prov
