#include "core/state/file_store.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <unistd.h>

#include "core/events/event_log.hpp"
#include "core/events/log_watch.hpp"
#include "core/state/lock.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/host_name.hpp"

namespace prov {

uint64_t JournalWriter::append(const Datum& record) { return append_encoded(encode_json(record)); }

void EventAppender::append(const Event& e) { append_lines(encode_json(e.to_datum()) + "\n"); }

std::unique_ptr<AgentRegistration> WorkflowStore::register_agent(const AgentRecord&) {
  throw ConfigError("provisioning::agent::needs_shared_store",
                    "agents take over workflows from other hosts, and " + describe() + " belongs to this host only",
                    "set state.backend = \"etcd\" and state.etcd.endpoints in the workspace's configuration "
                    "(README: Shared state on etcd)");
}

void WorkflowStore::keep_log_tail(WorkflowClaim&, const std::string&) {}

namespace {

ResourceError claim_lost(const std::string& id) {
  return ResourceError("provisioning::state::claim_lost",
                       "this runner no longer holds workflow " + id + ": nothing more is written for it",
                       "`prov workflow status " + id + "` shows who runs it now");
}

/// A claim on the file store: the runner lock, held by an open file until released.
class FileClaim final : public WorkflowClaim {
 public:
  FileClaim(std::string id, FileLock lock, uint64_t token)
      : id_(std::move(id)), lock_(std::move(lock)), token_(token) {}
  const std::string& workflow_id() const override { return id_; }
  uint64_t token() const override { return token_; }
  bool valid() const override { return lock_.held(); }
  void release() override { lock_.release(); }

 private:
  std::string id_;
  FileLock lock_;
  uint64_t token_;
};

/// The journal of a claimed workflow; every append first checks the claim.
class FileJournalWriter final : public JournalWriter {
 public:
  FileJournalWriter(Journal journal, const WorkflowClaim& claim) : journal_(std::move(journal)), claim_(claim) {}
  uint64_t append_encoded(const std::string& json) override {
    if (!claim_.valid()) throw claim_lost(claim_.workflow_id());
    return journal_.append_encoded(json);
  }
  uint64_t durable_seq() const override { return journal_.durable_seq(); }
  void wait_durable(uint64_t seq) override { journal_.wait_durable(seq); }
  void sync() override { journal_.sync(); }
  void compact(const Datum& header, const std::vector<Datum>& records) override {
    if (!claim_.valid()) throw claim_lost(claim_.workflow_id());
    journal_.compact(header, records);
  }
  void check_claim() const override {
    if (!claim_.valid()) throw claim_lost(claim_.workflow_id());
  }

 private:
  Journal journal_;
  const WorkflowClaim& claim_;  ///< outlives this writer (the runner holds both)
};

class FileEventAppender final : public EventAppender {
 public:
  FileEventAppender(const std::string& path, const WorkflowClaim& claim) : log_(path), claim_(claim) {}
  void append_lines(const std::string& lines) override {
    if (!claim_.valid()) throw claim_lost(claim_.workflow_id());
    log_.append_lines(lines);
  }

 private:
  EventLogWriter log_;
  const WorkflowClaim& claim_;
};

/// Event logs read as they grow, woken by inotify on their folders and a pidfd on a runner.
class FileEventFeed final : public EventFeed {
 public:
  FileEventFeed(const StateDir& state, std::optional<std::string> only) : state_(state), only_(std::move(only)) {}

  std::vector<Event> poll() override {
    auto add = [&](const std::string& id) {
      watch_.watch_dir(state_.workflow_dir(id));
      readers_.emplace(id, EventLogReader(state_.events_path(id)));
    };
    if (only_) {
      if (readers_.empty()) add(*only_);
    } else {
      if (!watching_root_) watching_root_ = watch_.watch_dir(state_.workflows_dir());
      for (const auto& id : state_.list_workflows())
        if (!readers_.count(id)) add(id);
    }
    std::vector<Event> out;
    for (auto& [id, reader] : readers_) {
      auto more = reader.poll();
      out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    // Event times are UTC RFC 3339 text of one format: their text order is their time order.
    if (readers_.size() > 1)
      std::stable_sort(out.begin(), out.end(),
                       [](const Event& a, const Event& b) { return a.time.rfc3339 < b.time.rfc3339; });
    return out;
  }

  void watch_runner(const std::string& id) override {
    const std::string lock = state_.runner_lock_path(id);
    if (auto pid = FileLock::holder_pid(lock); pid && FileLock::is_held(lock))
      watch_.watch_process(static_cast<pid_t>(*pid));
  }

  bool wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds) override {
    return watch_.wait(timeout, fds);
  }

 private:
  StateDir state_;
  std::optional<std::string> only_;
  std::map<std::string, EventLogReader> readers_;
  LogWatch watch_;
  bool watching_root_ = false;
};

/// The fencing counter of workflow `id`'s claims, raised by one; the claim is held.
uint64_t next_claim_token(const StateDir& state, const std::string& id) {
  const SafeDir folder = state.open_workflow(id);
  uint64_t token = 0;
  if (auto text = folder.read_file("claims")) {
    for (char c : *text) {
      if (c < '0' || c > '9') break;
      token = token * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  ++token;
  folder.write_file_atomic("claims", std::to_string(token) + "\n");
  return token;
}

/// The infrastructure lock: the flock on infra/lock while it is held.
class FileInfraLock final : public InfraLock {
 public:
  FileInfraLock(FileLock lock, SafeDir folder) : lock_(std::move(lock)), folder_(std::move(folder)) {}
  ~FileInfraLock() override { release(); }
  void release() override {
    if (!lock_.held()) return;
    folder_.remove("lock.holder");
    lock_.release();
  }

 private:
  FileLock lock_;
  SafeDir folder_;  ///< infra/, where the holder's description is
};


}  // namespace

namespace {
SafeDir infra_dir(const StateDir& state) { return SafeDir::open(state.path(), true).sub("infra", true); }
}  // namespace

std::vector<ManagedServer> FileStore::managed_servers() const {
  std::vector<ManagedServer> out;
  const std::optional<SafeDir> servers = infra_dir(state_).find("servers");
  if (!servers) return out;
  for (const auto& file : servers->names()) {
    if (file.starts_with(".")) continue;  // a write_file_atomic temporary
    const std::string where = servers->path() + "/" + file;
    std::optional<std::string> text = servers->read_file(file);
    if (!text) continue;
    Datum d;
    try {
      d = decode_json(*text);
    } catch (const Error&) {
      throw ResourceError("provisioning::state::corrupt_infra", where + " is not JSON",
                          "remove it to forget that server, then `prov infra import` it again");
    }
    out.push_back(ManagedServer::from_datum(d, where));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void FileStore::put_managed_server(const ManagedServer& server) {
  infra_dir(state_)
      .sub("servers", true)
      .write_file_atomic(state_file_name(server.name), encode_json(server.to_datum()) + "\n");
}

void FileStore::forget_managed_server(const std::string& name) {
  if (auto servers = infra_dir(state_).find("servers")) servers->remove(state_file_name(name));
}

std::optional<Datum> FileStore::pending_apply() const {
  std::optional<std::string> text = infra_dir(state_).read_file("pending.json");
  if (!text) return std::nullopt;
  try {
    return decode_json(*text);
  } catch (const Error&) {
    throw ResourceError("provisioning::state::corrupt_infra", infra_dir(state_).path() + "/pending.json is not JSON",
                        "remove it; `prov infra drift` then shows what the interrupted apply left");
  }
}

void FileStore::set_pending_apply(const std::optional<Datum>& apply) {
  const SafeDir dir = infra_dir(state_);
  if (apply)
    dir.write_file_atomic("pending.json", encode_json(*apply) + "\n");
  else
    dir.remove("pending.json");
}

std::unique_ptr<InfraLock> FileStore::lock_infra(std::chrono::milliseconds timeout, const std::string& purpose) {
  SafeDir dir = infra_dir(state_);
  const std::string path = dir.path() + "/lock";
  try {
    FileLock lock = FileLock::acquire(path, "the infrastructure of this workspace", timeout);
    dir.write_file_atomic("lock.holder", encode_json(Datum(DatumRecord{{"pid", Datum(int64_t{::getpid()})},
                                                                       {"host", Datum(this_host_name())},
                                                                       {"purpose", Datum(purpose)}})));
    return std::make_unique<FileInfraLock>(std::move(lock), std::move(dir));
  } catch (const ResourceError& e) {
    if (e.code() != "provisioning::state::locked") throw;
    std::string who = "another process";
    if (auto text = dir.read_file("lock.holder")) {
      try {
        const Datum h = decode_json(*text);
        const Datum* pid = h.find("pid");
        const Datum* host = h.find("host");
        const Datum* what = h.find("purpose");
        who = "process " + (pid ? to_display(*pid) : std::string("?")) + " on " +
              (host && host->is_string() ? host->str() : std::string("this host")) +
              (what && what->is_string() ? " (" + what->str() + ")" : std::string());
      } catch (const Error&) {
      }
    }
    throw ResourceError("provisioning::state::locked", "the infrastructure of this workspace is locked by " + who,
                        "another `prov infra` command is at work; wait for it, or give --lock-timeout to wait");
  }
}

FileStore::FileStore(const std::string& path, const std::string& workspace_root)
    : state_(StateDir::open(path, workspace_root)) {}

std::string FileStore::create_workflow(const std::function<Datum(const std::string& id)>& header,
                                       const Datum& private_config) {
  const std::string id = state_.create_workflow();
  try {
    if (!private_config.is_null())
      write_file_atomic(state_.config_secrets_path(id), encode_json(private_config), 0600);
    Journal::create(state_.journal_path(id), header(id));
  } catch (...) {
    // No journal, no workflow (a full or read-only disk): leave no empty folder behind that
    // `prov workflow list` would show as unreadable.
    std::error_code ec;
    std::filesystem::remove_all(state_.workflow_dir(id), ec);
    throw;
  }
  return id;
}

Journal::Recovery FileStore::read_journal(const std::string& id) const {
  state_.check_workflow_id(id);
  return Journal::read(state_.journal_path(id));
}

std::optional<Datum> FileStore::read_private_config(const std::string& id) const {
  std::optional<std::string> text = state_.open_workflow(id).read_file("config-secrets.json");
  if (!text) return std::nullopt;
  try {
    return decode_json(*text);
  } catch (const Error&) {
    throw ResourceError("provisioning::state::corrupt_secrets",
                        "the secrets file " + state_.config_secrets_path(id) + " is not JSON",
                        "submit the workflow again");
  }
}

std::unique_ptr<WorkflowClaim> FileStore::claim(const std::string& id, std::chrono::milliseconds timeout) {
  state_.check_workflow_id(id);
  FileLock lock = state_.lock_runner(id, timeout);
  const uint64_t token = next_claim_token(state_, id);
  return std::make_unique<FileClaim>(id, std::move(lock), token);
}

std::optional<ClaimHolder> FileStore::claim_holder(const std::string& id) const {
  const std::string lock = state_.runner_lock_path(id);
  // The pid first: a holder that lets go in between is then reported as none.
  const auto pid = FileLock::holder_pid(lock);
  if (!FileLock::is_held(lock)) return std::nullopt;
  return ClaimHolder{pid, {}};
}

OpenedJournal FileStore::open_journal(WorkflowClaim& claim, Journal::TailRepair repair) {
  if (!claim.valid()) throw claim_lost(claim.workflow_id());
  Journal::Opened opened = Journal::open_for_append(state_.journal_path(claim.workflow_id()), repair);
  return OpenedJournal{std::make_unique<FileJournalWriter>(std::move(opened.journal), claim),
                       std::move(opened.recovery)};
}

std::unique_ptr<EventAppender> FileStore::open_event_log(WorkflowClaim& claim) {
  if (!claim.valid()) throw claim_lost(claim.workflow_id());
  return std::make_unique<FileEventAppender>(state_.events_path(claim.workflow_id()), claim);
}

std::vector<Event> FileStore::read_events(const std::string& id) const { return read_event_log(state_.events_path(id)); }

std::unique_ptr<EventFeed> FileStore::follow(const std::optional<std::string>& only) const {
  return std::make_unique<FileEventFeed>(state_, only);
}

LocalFiles FileStore::local_files(const std::string& id) const {
  LocalFiles f;
  f.folder = std::make_shared<const SafeDir>(state_.open_workflow(id));
  f.running = std::make_shared<const SafeDir>(f.folder->sub("running", true));
  f.logs = std::make_shared<const SafeDir>(f.folder->sub("logs", true));
  f.closure_socket = state_.closure_socket_path(id);
  f.private_undo_dir = state_.private_undo_dir(id);
  f.runner_log = state_.workflow_dir(id) + "/runner.log";
  return f;
}

}  // namespace prov
