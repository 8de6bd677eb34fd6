#include "core/state/etcd_store.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "core/state/log_tail.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/host_name.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace {

using Clock = std::chrono::steady_clock;

std::string seq_key(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}

uint64_t seq_of(const std::string& key) {
  const size_t slash = key.rfind('/');
  uint64_t n = 0;
  for (size_t i = slash + 1; i < key.size(); ++i) {
    if (key[i] < '0' || key[i] > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(key[i] - '0');
  }
  return n;
}

ResourceError claim_lost(const std::string& id) {
  return ResourceError("provisioning::state::claim_lost",
                       "this runner no longer holds workflow " + id + ": nothing more is written for it",
                       "`prov workflow status " + id + "` shows who runs it now");
}

ResourceError corrupt(const std::string& key, const std::string& why) {
  return ResourceError("provisioning::state::corrupt", "the etcd key " + key + " is not what the store wrote: " + why,
                       "it was changed outside nu_plugin_provisioning; remove the workflow's keys or restore them");
}

Datum decode_key(const EtcdKv& kv) {
  try {
    return decode_json(kv.value);
  } catch (const Error& e) {
    throw corrupt(kv.key, e.what());
  }
}

/// The record of journal key `kv`: its value is {claim: <the writer's fencing token>, record}.
Datum journal_record_of(const EtcdKv& kv) {
  Datum d = decode_key(kv);
  const Datum* claim = d.find("claim");
  Datum* record = d.find("record");
  if (!claim || !std::holds_alternative<int64_t>(claim->v) || !record)
    throw corrupt(kv.key, "a journal record without its claim and record");
  return std::move(*record);
}

/// A lease that a thread keeps alive (every TTL/3) until stop(), then revokes.
class LeaseKeeper {
 public:
  LeaseKeeper(std::shared_ptr<EtcdClient> client, int64_t lease, std::chrono::seconds ttl)
      : client_(std::move(client)), lease_(lease), ttl_(ttl), renewed_(Clock::now()) {
    thread_ = std::thread([this] { keep_alive(); });
  }
  ~LeaseKeeper() { stop(); }
  int64_t lease() const { return lease_; }
  /// True while the lease surely lives: counted from before the last renewal was sent, so
  /// the holder stops believing in it before etcd lets go.
  bool valid() const {
    std::lock_guard lock(m_);
    return !lost_ && !stopped_ && Clock::now() - renewed_ < ttl_;
  }
  /// Why the lease is not surely alive: empty when etcd said it ended (or it was stopped),
  /// else the error of the renewals etcd left unanswered (quorum lost, endpoints unreachable).
  std::string unanswered() const {
    std::lock_guard lock(m_);
    return lost_ || stopped_ ? std::string() : unanswered_;
  }
  /// Stops renewing and revokes the lease (its keys go with it); once.
  void stop() {
    {
      std::lock_guard lock(m_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    try {
      client_->revoke_lease(lease_);
    } catch (const Error&) {
      // etcd unreachable: the lease lapses on its own.
    }
  }

 private:
  void keep_alive() {
    std::unique_lock lock(m_);
    while (!stopped_) {
      cv_.wait_for(lock, ttl_ / 3);
      if (stopped_) return;
      const auto sent = Clock::now();
      lock.unlock();
      int64_t left = -1;
      std::string error;
      try {
        left = client_->keep_alive(lease_);
      } catch (const Error& e) {
        left = -1;  // unreachable now: valid() runs out with the TTL
        error = e.what();
      }
      lock.lock();
      if (left == 0) lost_ = true;
      if (left > 0) {
        renewed_ = sent;
        unanswered_.clear();
      } else if (left < 0) {
        unanswered_ = std::move(error);
      }
    }
  }

  std::shared_ptr<EtcdClient> client_;
  int64_t lease_;
  std::chrono::seconds ttl_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  Clock::time_point renewed_;
  bool lost_ = false;
  bool stopped_ = false;
  std::string unanswered_;  ///< the last renewal's error, while renewals fail
  std::thread thread_;
};

/// A claim: a key bound to a kept-alive lease.
class EtcdClaim final : public WorkflowClaim {
 public:
  EtcdClaim(std::shared_ptr<EtcdClient> client, std::string id, std::string key, int64_t lease, int64_t create_revision,
            uint64_t token, std::chrono::seconds ttl)
      : id_(std::move(id)), key_(std::move(key)), create_revision_(create_revision), token_(token),
        keeper_(std::move(client), lease, ttl) {}
  ~EtcdClaim() override { release(); }

  const std::string& workflow_id() const override { return id_; }
  uint64_t token() const override { return token_; }
  bool valid() const override { return keeper_.valid(); }
  /// Revoking the lease removes the claim key with it.
  void release() override { keeper_.stop(); }
  int64_t create_revision() const { return create_revision_; }
  const std::string& key() const { return key_; }
  /// The error for a write refused because the claim is no longer surely held: etcd out of
  /// reach past the lease's TTL (the runner stops as on a full disk), or the claim gone.
  ResourceError lost() const {
    const std::string why = keeper_.unanswered();
    if (why.empty()) return claim_lost(id_);
    return ResourceError("provisioning::etcd::unavailable",
                         "etcd left this runner's lease renewals unanswered past its TTL, so its claim on workflow " +
                             id_ + " may have lapsed: the runner stops and writes nothing more (" + why + ")",
                         "once a majority of the etcd members is back, an agent takes the workflow over (or `prov "
                         "workflow resume " +
                             id_ + "`)");
  }

 private:
  std::string id_;
  std::string key_;
  int64_t create_revision_;
  uint64_t token_;
  LeaseKeeper keeper_;
};

/// The infrastructure lock: a key bound to a kept-alive lease.
class EtcdInfraLock final : public InfraLock {
 public:
  EtcdInfraLock(std::shared_ptr<EtcdClient> client, int64_t lease, std::chrono::seconds ttl)
      : keeper_(std::move(client), lease, ttl) {}
  void release() override { keeper_.stop(); }

 private:
  LeaseKeeper keeper_;
};

/// An agent's key, bound to a kept-alive lease.
class EtcdAgentRegistration final : public AgentRegistration {
 public:
  EtcdAgentRegistration(std::shared_ptr<EtcdClient> client, std::string key, AgentRecord record, int64_t lease,
                        std::chrono::seconds ttl)
      : client_(client), key_(std::move(key)), record_(std::move(record)), keeper_(std::move(client), lease, ttl) {}
  bool valid() const override { return keeper_.valid(); }
  void update(const std::vector<std::string>& running) override {
    if (running == record_.running) return;
    record_.running = running;
    client_->put(key_, encode_json(agent_datum(record_)), keeper_.lease());
  }
  static Datum agent_datum(const AgentRecord& a) {
    DatumList running;
    for (const auto& id : a.running) running.emplace_back(id);
    return Datum(DatumRecord{{"name", Datum(a.name)},
                             {"host", Datum(a.host)},
                             {"pid", Datum(a.pid)},
                             {"started", Datum(a.started)},
                             {"running", Datum(std::move(running))}});
  }

 private:
  std::shared_ptr<EtcdClient> client_;
  std::string key_;
  AgentRecord record_;
  LeaseKeeper keeper_;
};

EtcdCompare still_held(const EtcdClaim& c) {
  return {c.key(), EtcdCompare::Target::create_revision, EtcdCompare::Result::equal, c.create_revision(), {}};
}

EtcdClaim& etcd_claim(WorkflowClaim& claim) {
  auto* c = dynamic_cast<EtcdClaim*>(&claim);
  if (!c) throw ResourceError("provisioning::state::claim_lost", "a claim of another store was given to the etcd store");
  return *c;
}

/// At most this many puts in one transaction (etcd's default limit is 128 operations).
constexpr size_t kBatch = 100;

/// A claimed workflow's journal: records go to etcd in batches, each one fenced transaction.
class EtcdJournalWriter final : public JournalWriter {
 public:
  EtcdJournalWriter(std::shared_ptr<EtcdClient> client, const EtcdClaim& claim, std::string prefix, uint64_t last_key)
      : client_(std::move(client)), claim_(claim), prefix_(std::move(prefix)), last_key_(last_key) {}

  uint64_t append_encoded(const std::string& json) override {
    if (!claim_.valid()) throw claim_.lost();
    std::lock_guard lock(m_);
    pending_.emplace_back(++appended_, json);
    return appended_;
  }
  uint64_t durable_seq() const override {
    std::lock_guard lock(m_);
    return durable_;
  }
  void wait_durable(uint64_t seq) override {
    std::unique_lock lock(m_);
    while (durable_ < seq) {
      if (failure_) throw *failure_;
      if (flushing_) {
        cv_.wait(lock);
        continue;
      }
      // This caller writes what is pending now; others waiting meanwhile share the write.
      const size_t n = std::min(pending_.size(), kBatch);
      std::vector<std::pair<uint64_t, std::string>> batch(pending_.begin(), pending_.begin() + static_cast<long>(n));
      flushing_ = true;
      lock.unlock();
      std::optional<ResourceError> error;
      try {
        write(batch);
      } catch (const ResourceError& e) {
        error = e;
      }
      lock.lock();
      flushing_ = false;
      if (error) {
        failure_ = error;
        cv_.notify_all();
        throw *error;
      }
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
      durable_ = batch.empty() ? durable_ : batch.back().first;
      cv_.notify_all();
    }
  }
  void sync() override {
    uint64_t last;
    {
      std::lock_guard lock(m_);
      last = appended_;
    }
    wait_durable(last);
  }
  void compact(const Datum& header, const std::vector<Datum>& records) override {
    sync();
    if (!claim_.valid()) throw claim_.lost();
    DatumList list(records.begin(), records.end());
    const Datum checkpoint(DatumRecord{{"header", header},
                                       {"records", Datum(std::move(list))},
                                       {"through", Datum(static_cast<int64_t>(last_key_ + durable_seq()))}});
    const auto r = client_->txn({still_held(claim_)},
                                {EtcdOp::put(prefix_ + "checkpoint", encode_json(checkpoint)),
                                 EtcdOp::put(prefix_ + "header", encode_json(header)),
                                 EtcdOp::remove(prefix_ + "journal/", true)});
    if (!r.succeeded) throw claim_lost(claim_.workflow_id());
  }
  void check_claim() const override {
    if (!claim_.valid()) throw claim_.lost();
  }

 private:
  void write(const std::vector<std::pair<uint64_t, std::string>>& batch) {
    std::vector<EtcdOp> puts;
    puts.reserve(batch.size());
    // Each record names the claim it was written under (journal_value).
    const std::string claim = std::to_string(claim_.token());
    for (const auto& [seq, json] : batch)
      puts.push_back(EtcdOp::put(prefix_ + "journal/" + seq_key(last_key_ + seq),
                                 "{\"claim\":" + claim + ",\"record\":" + json + "}"));
    const auto r = client_->txn({still_held(claim_)}, puts);
    if (!r.succeeded) throw claim_lost(claim_.workflow_id());
  }

  std::shared_ptr<EtcdClient> client_;
  const EtcdClaim& claim_;
  std::string prefix_;     ///< P/workflows/<id>/
  uint64_t last_key_;      ///< the journal key sequence before this writer's first record
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::pair<uint64_t, std::string>> pending_;
  uint64_t appended_ = 0;
  uint64_t durable_ = 0;
  bool flushing_ = false;
  std::optional<ResourceError> failure_;
};

class EtcdEventAppender final : public EventAppender {
 public:
  EtcdEventAppender(std::shared_ptr<EtcdClient> client, const EtcdClaim& claim, std::string prefix, uint64_t last)
      : client_(std::move(client)), claim_(claim), prefix_(std::move(prefix)), last_(last) {}
  void append_lines(const std::string& lines) override {
    std::lock_guard lock(m_);
    if (!claim_.valid()) throw claim_.lost();
    const auto r = client_->txn({still_held(claim_)}, {EtcdOp::put(prefix_ + seq_key(last_ + 1), lines)});
    if (!r.succeeded) throw claim_lost(claim_.workflow_id());
    ++last_;
  }

 private:
  std::shared_ptr<EtcdClient> client_;
  const EtcdClaim& claim_;
  std::string prefix_;  ///< P/workflows/<id>/events/
  std::mutex m_;
  uint64_t last_;
};

void add_event_lines(const std::string& lines, std::vector<Event>& out) {
  size_t start = 0;
  while (start < lines.size()) {
    size_t nl = lines.find('\n', start);
    if (nl == std::string::npos) nl = lines.size();
    if (nl > start) out.push_back(Event::from_datum(decode_json(std::string_view(lines).substr(start, nl - start))));
    start = nl + 1;
  }
}

/// Events as they are appended, from a watch on the workflows' keys.
class EtcdEventFeed final : public EventFeed {
 public:
  EtcdEventFeed(std::shared_ptr<EtcdClient> client, std::string workflows_prefix, std::optional<std::string> only)
      : client_(std::move(client)), workflows_(std::move(workflows_prefix)), only_(std::move(only)) {}

  std::vector<Event> poll() override {
    std::vector<Event> out;
    if (!watch_) {
      // Everything so far, then a watch from just after it; after a compaction, the same
      // again, giving only what was not given.
      const std::string prefix = only_ ? workflows_ + *only_ + "/events/" : workflows_;
      const EtcdRange all = client_->range(prefix);
      for (const auto& kv : all.kvs) take(kv, out);
      watch_ = client_->watch(only_ ? prefix : workflows_, all.revision + 1);
    } else {
      try {
        for (const auto& e : watch_->next(Clock::now())) {
          if (e.deleted) {
            if (watched_.count(e.kv.key)) runner_gone_ = true;
            continue;
          }
          take(e.kv, out);
        }
      } catch (const ResourceError&) {
        watch_.reset();  // broken or compacted: read again on the next poll
      }
    }
    if (!only_ && out.size() > 1)
      std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.time.rfc3339 < b.time.rfc3339; });
    return out;
  }

  std::vector<Event> poll_settled() override {
    std::vector<Event> out = poll();
    // What the watch has not delivered yet is read directly; it is not given twice (seen_).
    const EtcdRange all = client_->range(only_ ? workflows_ + *only_ + "/events/" : workflows_);
    for (const auto& kv : all.kvs) take(kv, out);
    if (!only_ && out.size() > 1)
      std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.time.rfc3339 < b.time.rfc3339; });
    return out;
  }

  void watch_runner(const std::string& id) override {
    watched_.insert(workflows_ + id + "/claim");
    if (only_ && watch_ && *only_ == id) {
      // The feed of one workflow watches its events only: widen it to the workflow's keys.
      watch_ = client_->watch(workflows_ + id + "/", watch_->resume_revision());
    }
  }

  bool wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds) override {
    if (runner_gone_) {
      runner_gone_ = false;
      return true;
    }
    if (!watch_) return true;
    if (watch_->has_buffered()) return true;
    std::vector<pollfd> p;
    p.push_back({watch_->fd(), POLLIN, 0});
    for (int fd : fds)
      if (fd >= 0) p.push_back({fd, POLLIN, 0});
    return ::poll(p.data(), p.size(), static_cast<int>(timeout.count())) > 0;
  }

 private:
  void take(const EtcdKv& kv, std::vector<Event>& out) {
    if (kv.key.find("/events/") == std::string::npos) return;
    if (!seen_.insert(kv.key).second) return;
    add_event_lines(kv.value, out);
  }

  std::shared_ptr<EtcdClient> client_;
  std::string workflows_;  ///< P/workflows/
  std::optional<std::string> only_;
  std::unique_ptr<EtcdWatch> watch_;
  std::set<std::string> seen_;     ///< event keys given (each is written once)
  std::set<std::string> watched_;  ///< claim keys whose deletion wakes wait()
  bool runner_gone_ = false;
};

}  // namespace

EtcdStore::EtcdStore(EtcdStoreOptions options)
    : options_(std::move(options)),
      client_(std::make_shared<EtcdClient>(EtcdOptions{.endpoints = options_.etcd.endpoints,
                                                       .user = options_.etcd.user,
                                                       .password = options_.etcd.password,
                                                       .request_timeout = options_.etcd.request_timeout,
                                                       .tls = options_.etcd.tls})),
      local_(StateDir::open(options_.local_path, options_.workspace_root)) {
  if (options_.host.empty()) options_.host = this_host_name();
  while (!options_.etcd.prefix.empty() && options_.etcd.prefix.back() == '/') options_.etcd.prefix.pop_back();
}

EtcdStore::~EtcdStore() = default;

std::string EtcdStore::describe() const {
  return "the etcd store " + options_.etcd.prefix + " at " + client_->current_endpoint();
}

std::string EtcdStore::key(const std::string& id, const std::string& what) const {
  return options_.etcd.prefix + "/workflows/" + id + "/" + what;
}

std::string EtcdStore::create_workflow(const std::function<Datum(const std::string& id)>& header,
                                       const Datum& private_config) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string id = new_workflow_id();
    std::vector<EtcdOp> ops = {EtcdOp::put(key(id, "header"), encode_json(header(id))),
                               EtcdOp::put(options_.etcd.prefix + "/index/" + id, "")};
    if (!private_config.is_null()) ops.push_back(EtcdOp::put(key(id, "private"), encode_json(private_config)));
    // One transaction: the workflow appears whole, under an id nobody has.
    if (client_->txn({EtcdCompare::absent(options_.etcd.prefix + "/index/" + id)}, ops).succeeded) return id;
    // Sent again after its first answer was lost, it finds the workflow it made.
    if (const auto made = client_->get(key(id, "header")); made && made->value == ops[0].value) return id;
  }
  throw ResourceError("provisioning::state::io", "found no free workflow id in " + describe());
}

std::vector<std::string> EtcdStore::list_workflows() const {
  const std::string prefix = options_.etcd.prefix + "/index/";
  std::vector<std::string> ids;
  for (const auto& kv : client_->range(prefix, 0, true).kvs) {
    std::string id = kv.key.substr(prefix.size());
    if (is_workflow_id(id)) ids.push_back(std::move(id));
  }
  std::sort(ids.begin(), ids.end(), std::greater<>());
  return ids;
}

void EtcdStore::check_workflow_id(const std::string& id) const {
  if (is_workflow_id(id) && client_->get(options_.etcd.prefix + "/index/" + id)) return;
  throw unknown_workflow_id(id, list_workflows(), describe());
}

Journal::Recovery EtcdStore::read_journal(const std::string& id) const {
  if (!is_workflow_id(id)) throw unknown_workflow_id(id, list_workflows(), describe());
  // One request at one revision, and only what the journal is: the workflow's index key (it
  // exists), its header, checkpoint and journal records; not its events and log tails.
  const std::string journal = key(id, "journal/");
  const EtcdTxnResult t = client_->txn({}, {EtcdOp::get(options_.etcd.prefix + "/index/" + id),
                                            EtcdOp::get(key(id, "header")), EtcdOp::get(key(id, "checkpoint")),
                                            EtcdOp::get(journal, true)});
  if (t.ranges.size() != 4)
    throw ResourceError("provisioning::etcd::bad_answer",
                        "etcd answered the read of workflow " + id + "'s journal with " +
                            std::to_string(t.ranges.size()) + " ranges instead of 4");
  if (t.ranges[0].kvs.empty()) throw unknown_workflow_id(id, list_workflows(), describe());
  Journal::Recovery r;
  uint64_t through = 0;
  bool have_header = false;
  if (!t.ranges[2].kvs.empty()) {
    const EtcdKv& kv = t.ranges[2].kvs.front();
    const Datum cp = decode_key(kv);
    const Datum* header = cp.find("header");
    const Datum* records = cp.find("records");
    const Datum* upto = cp.find("through");
    if (!header || !records || !records->is_list() || !upto || !std::holds_alternative<int64_t>(upto->v))
      throw corrupt(kv.key, "a checkpoint without header, records and through");
    r.header = *header;
    r.records = records->list();
    through = static_cast<uint64_t>(std::get<int64_t>(upto->v));
    have_header = true;
  }
  if (!have_header && !t.ranges[1].kvs.empty()) {
    r.header = decode_key(t.ranges[1].kvs.front());
    have_header = true;
  }
  if (!have_header) throw corrupt(key(id, "header"), "it is missing");
  for (const auto& kv : t.ranges[3].kvs)
    if (seq_of(kv.key) > through) r.records.push_back(journal_record_of(kv));
  return r;
}

std::optional<Datum> EtcdStore::read_private_config(const std::string& id) const {
  const auto kv = client_->get(key(id, "private"));
  if (!kv) return std::nullopt;
  return decode_key(*kv);
}

std::unique_ptr<WorkflowClaim> EtcdStore::claim(const std::string& id, std::chrono::milliseconds timeout) {
  check_workflow_id(id);
  const auto deadline = Clock::now() + timeout;
  const std::string claim_key = key(id, "claim");
  const std::string token_key = key(id, "token");
  int64_t lease = client_->grant_lease(options_.etcd.lease_ttl);
  // A wait for a dead holder's lease to lapse can outlast this one's TTL: renewed every third
  // of it while waiting, granted anew if it lapsed all the same (the machine stalled).
  auto renewed = Clock::now();
  try {
    for (;;) {
      if (Clock::now() - renewed >= options_.etcd.lease_ttl / 3) {
        if (client_->keep_alive(lease) == 0) lease = client_->grant_lease(options_.etcd.lease_ttl);
        renewed = Clock::now();
      }
      const auto token_kv = client_->get(token_key);
      const uint64_t token = (token_kv ? static_cast<uint64_t>(std::stoull(token_kv->value)) : 0) + 1;
      const Datum holder(DatumRecord{{"token", Datum(static_cast<int64_t>(token))},
                                     {"host", Datum(options_.host)},
                                     {"pid", Datum(static_cast<int64_t>(::getpid()))}});
      EtcdTxnResult r;
      try {
        r = client_->txn(
            {EtcdCompare::absent(claim_key), EtcdCompare::mod_revision_is(token_key, token_kv ? token_kv->mod_revision : 0)},
            {EtcdOp::put(claim_key, encode_json(holder), lease), EtcdOp::put(token_key, std::to_string(token))});
      } catch (const ResourceError& e) {
        if (e.code() != "provisioning::etcd::refused" || std::string(e.what()).find("lease not found") == std::string::npos)
          throw;
        lease = client_->grant_lease(options_.etcd.lease_ttl);  // it lapsed between renewal and use
        renewed = Clock::now();
      }
      if (r.succeeded)
        return std::make_unique<EtcdClaim>(client_, id, claim_key, lease, r.revision, token, options_.etcd.lease_ttl);
      // The client sent this transaction again to another member after the first one's answer
      // was lost: the claim that one made is this one's.
      if (const auto mine = client_->get(claim_key); mine && mine->lease == lease)
        return std::make_unique<EtcdClaim>(client_, id, claim_key, lease, mine->create_revision, token,
                                           options_.etcd.lease_ttl);
      if (Clock::now() >= deadline) {
        const auto h = claim_holder(id);
        std::string who = h ? (h->host.empty() ? "this host" : h->host) : "another runner";
        if (h && h->pid) who += ", pid " + std::to_string(*h->pid);
        throw ResourceError("provisioning::state::locked", "workflow " + id + " is being run by " + who,
                            "wait for it to end, or `prov workflow cancel " + id + "`");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (...) {
    try {
      client_->revoke_lease(lease);
    } catch (const Error&) {
    }
    throw;
  }
}

std::optional<ClaimHolder> EtcdStore::claim_holder(const std::string& id) const {
  const auto kv = client_->get(key(id, "claim"));
  if (!kv) return std::nullopt;
  const Datum d = decode_key(*kv);
  ClaimHolder h;
  if (const Datum* pid = d.find("pid"); pid && std::holds_alternative<int64_t>(pid->v)) h.pid = std::get<int64_t>(pid->v);
  if (const Datum* host = d.find("host"); host && host->is_string() && host->str() != options_.host) h.host = host->str();
  return h;
}

OpenedJournal EtcdStore::open_journal(WorkflowClaim& claim, Journal::TailRepair) {
  EtcdClaim& c = etcd_claim(claim);
  if (!c.valid()) throw claim_lost(c.workflow_id());
  Journal::Recovery recovery = read_journal(c.workflow_id());
  // Keys go on from the last one written (a checkpoint's `through` included).
  uint64_t last = 0;
  for (const auto& kv : client_->range(key(c.workflow_id(), "journal/"), 0, true).kvs) last = std::max(last, seq_of(kv.key));
  if (const auto cp = client_->get(key(c.workflow_id(), "checkpoint"))) {
    const Datum d = decode_key(*cp);
    if (const Datum* t = d.find("through"); t && std::holds_alternative<int64_t>(t->v))
      last = std::max(last, static_cast<uint64_t>(std::get<int64_t>(t->v)));
  }
  return OpenedJournal{std::make_unique<EtcdJournalWriter>(client_, c, key(c.workflow_id(), ""), last),
                       std::move(recovery)};
}

std::unique_ptr<EventAppender> EtcdStore::open_event_log(WorkflowClaim& claim) {
  EtcdClaim& c = etcd_claim(claim);
  if (!c.valid()) throw claim_lost(c.workflow_id());
  uint64_t last = 0;
  for (const auto& kv : client_->range(key(c.workflow_id(), "events/"), 0, true).kvs) last = std::max(last, seq_of(kv.key));
  return std::make_unique<EtcdEventAppender>(client_, c, key(c.workflow_id(), "events/"), last);
}

std::vector<Event> EtcdStore::read_events(const std::string& id) const {
  std::vector<Event> out;
  for (const auto& kv : client_->range(key(id, "events/")).kvs) add_event_lines(kv.value, out);
  return out;
}

std::unique_ptr<EventFeed> EtcdStore::follow(const std::optional<std::string>& only) const {
  return std::make_unique<EtcdEventFeed>(client_, options_.etcd.prefix + "/workflows/", only);
}

void EtcdStore::ensure_local(const std::string& id) const {
  if (!is_workflow_id(id)) check_workflow_id(id);
  for (const std::string& dir : {local_.workflows_dir(), local_.workflow_dir(id), local_.logs_dir(id)}) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw ResourceError("provisioning::state::io", "cannot make the folder " + dir + ": " + std::strerror(errno));
  }
}

LocalFiles EtcdStore::local_files(const std::string& id) const {
  ensure_local(id);
  LocalFiles f;
  f.folder = std::make_shared<const SafeDir>(local_.open_workflow(id));
  f.running = std::make_shared<const SafeDir>(f.folder->sub("running", true));
  f.logs = std::make_shared<const SafeDir>(f.folder->sub("logs", true));
  f.closure_socket = local_.closure_socket_path(id);
  f.private_undo_dir = local_.private_undo_dir(id);
  f.runner_log = local_.workflow_dir(id) + "/runner.log";
  return f;
}

void EtcdStore::check_workflow_files(const std::string& id) const {
  struct stat st {};
  if (::lstat(local_.workflow_dir(id).c_str(), &st) == 0) local_.check_workflow_files(id);
}

std::string EtcdStore::operation_log_path(const std::string& id, const std::string& op) const {
  return local_.operation_log_path(id, op);
}

UniqueFd EtcdStore::open_operation_log(const std::string& id, const std::string& op) const {
  struct stat st {};
  if (::lstat(local_.workflow_dir(id).c_str(), &st) != 0) return UniqueFd();
  return local_.open_operation_log(id, op);
}

OperationLog EtcdStore::read_operation_log(const std::string& id, const std::string& op) const {
  std::optional<LogTail> tail;
  if (const auto kv = client_->get(key(id, "logs/" + op))) {
    tail = decode_log_tail(kv->value);
    if (!tail) throw corrupt(kv->key, "not the end of an operation's log");
  }
  // This host's own log when it wrote the tail, or when nobody kept one (the operation runs
  // here now, or printed nothing).
  if (!tail || (tail->host == options_.host && tail->path == local_.operation_log_path(id, op))) {
    UniqueFd fd = open_operation_log(id, op);
    if (fd || !tail) return OperationLog::here(std::move(fd));
  }
  OperationLog out;
  out.fd = memory_file(tail->bytes);
  out.tail_only = tail->bytes.size() < tail->size;
  out.host = tail->host;
  out.path = tail->path;
  out.size = tail->size;
  return out;
}

void EtcdStore::keep_log_tail(WorkflowClaim& claim, const std::string& op) {
  EtcdClaim& c = etcd_claim(claim);
  const std::string& id = c.workflow_id();
  const UniqueFd fd = open_operation_log(id, op);
  if (!fd) return;  // it printed nothing
  LogTail tail;
  tail.host = options_.host;
  tail.path = local_.operation_log_path(id, op);
  tail.bytes = read_log_tail(fd.get(), kLogTailBytes, tail.path, tail.size);
  if (!client_->txn({still_held(c)}, {EtcdOp::put(key(id, "logs/" + op), encode_log_tail(tail))}).succeeded)
    throw claim_lost(id);
}

std::optional<ResourceError> EtcdStore::storage_problem() const { return local_.storage_problem(); }

std::vector<ManagedServer> EtcdStore::managed_servers() const {
  std::vector<ManagedServer> out;
  for (const auto& kv : client_->range(options_.etcd.prefix + "/infra/servers/").kvs)
    out.push_back(ManagedServer::from_datum(decode_key(kv), kv.key));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void EtcdStore::put_managed_server(const ManagedServer& server) {
  client_->put(options_.etcd.prefix + "/infra/servers/" + server.name, encode_json(server.to_datum()));
}

void EtcdStore::forget_managed_server(const std::string& name) {
  client_->remove(options_.etcd.prefix + "/infra/servers/" + name);
}

std::optional<Datum> EtcdStore::pending_apply() const {
  const auto kv = client_->get(options_.etcd.prefix + "/infra/pending");
  if (!kv) return std::nullopt;
  return decode_key(*kv);
}

void EtcdStore::set_pending_apply(const std::optional<Datum>& apply) {
  const std::string k = options_.etcd.prefix + "/infra/pending";
  if (apply)
    client_->put(k, encode_json(*apply));
  else
    client_->remove(k);
}

std::unique_ptr<InfraLock> EtcdStore::lock_infra(std::chrono::milliseconds timeout, const std::string& purpose) {
  const std::string k = options_.etcd.prefix + "/infra/lock";
  const auto deadline = Clock::now() + timeout;
  const int64_t lease = client_->grant_lease(options_.etcd.lease_ttl);
  const std::string holder = encode_json(Datum(DatumRecord{{"pid", Datum(int64_t{::getpid()})},
                                                           {"host", Datum(options_.host)},
                                                           {"purpose", Datum(purpose)}}));
  for (;;) {
    const auto r = client_->txn({EtcdCompare::absent(k)}, {EtcdOp::put(k, holder, lease)}, {EtcdOp::get(k)});
    // Sent again after its first answer was lost, it finds the lock it took.
    if (r.succeeded || (!r.ranges.empty() && !r.ranges[0].kvs.empty() && r.ranges[0].kvs[0].lease == lease))
      return std::make_unique<EtcdInfraLock>(client_, lease, options_.etcd.lease_ttl);
    if (Clock::now() >= deadline) {
      client_->revoke_lease(lease);
      std::string who = "another process";
      if (!r.ranges.empty() && !r.ranges[0].kvs.empty()) {
        const Datum h = decode_key(r.ranges[0].kvs[0]);
        const Datum* pid = h.find("pid");
        const Datum* host = h.find("host");
        const Datum* what = h.find("purpose");
        who = "process " + (pid ? to_display(*pid) : std::string("?")) + " on " +
              (host && host->is_string() ? host->str() : std::string("another host")) +
              (what && what->is_string() ? " (" + what->str() + ")" : std::string());
      }
      throw ResourceError("provisioning::state::locked", "the infrastructure of this workspace is locked by " + who,
                          "another `prov infra` command is at work; wait for it, or give --lock-timeout to wait");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::unique_ptr<AgentRegistration> EtcdStore::register_agent(const AgentRecord& agent) {
  const std::string k = options_.etcd.prefix + "/agents/" + agent.name;
  const int64_t lease = client_->grant_lease(options_.etcd.lease_ttl);
  const std::string value = encode_json(EtcdAgentRegistration::agent_datum(agent));
  /// Whether `kv` is this very agent's key (its lease lapsed while etcd was out of reach, or
  /// the key outlived it): then it takes its own key over.
  const auto own = [&](const EtcdKv& kv) {
    const Datum d = decode_key(kv);
    const Datum* host = d.find("host");
    const Datum* pid = d.find("pid");
    return host && host->is_string() && host->str() == agent.host && pid && std::holds_alternative<int64_t>(pid->v) &&
           std::get<int64_t>(pid->v) == agent.pid;
  };
  auto r = client_->txn({EtcdCompare::absent(k)}, {EtcdOp::put(k, value, lease)}, {EtcdOp::get(k)});
  // Its own old key can lapse between the two transactions (then the second finds it gone):
  // looked at again, a few times, until the key is either put or another agent's.
  for (int round = 0; round < 5 && !r.succeeded && !r.ranges.empty(); ++round) {
    if (r.ranges[0].kvs.empty())
      r = client_->txn({EtcdCompare::absent(k)}, {EtcdOp::put(k, value, lease)}, {EtcdOp::get(k)});
    else if (own(r.ranges[0].kvs[0]))
      r = client_->txn({EtcdCompare::mod_revision_is(k, r.ranges[0].kvs[0].mod_revision)},
                       {EtcdOp::put(k, value, lease)}, {EtcdOp::get(k)});
    else
      break;
  }
  if (!r.succeeded) {
    client_->revoke_lease(lease);
    std::string where;
    if (!r.ranges.empty() && !r.ranges[0].kvs.empty()) {
      const Datum d = decode_key(r.ranges[0].kvs[0]);
      if (const Datum* h = d.find("host"); h && h->is_string()) where = " on " + h->str();
    }
    throw ResourceError("provisioning::agent::name_taken", "an agent named '" + agent.name + "' runs already" + where,
                        "give this one another name with --name");
  }
  return std::make_unique<EtcdAgentRegistration>(client_, k, agent, lease, options_.etcd.lease_ttl);
}

std::vector<AgentRecord> EtcdStore::list_agents() const {
  std::vector<AgentRecord> out;
  for (const auto& kv : client_->range(options_.etcd.prefix + "/agents/").kvs) {
    const Datum d = decode_key(kv);
    AgentRecord a;
    const auto str = [&](const char* k) {
      const Datum* v = d.find(k);
      return v && v->is_string() ? v->str() : std::string();
    };
    a.name = str("name");
    a.host = str("host");
    a.started = str("started");
    if (const Datum* p = d.find("pid"); p && std::holds_alternative<int64_t>(p->v)) a.pid = std::get<int64_t>(p->v);
    if (const Datum* r = d.find("running"); r && r->is_list())
      for (const auto& id : r->list())
        if (id.is_string()) a.running.push_back(id.str());
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace prov
