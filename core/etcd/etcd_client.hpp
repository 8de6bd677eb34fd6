#pragma once
/// A client of etcd's v3 API through its JSON gateway (POST /v3/…, keys and values in base64,
/// 64-bit numbers as strings): key ranges, puts, deletes, transactions, leases and watches.
/// Talks to the first endpoint that answers and moves to the next when one stops answering;
/// authenticates with a user and password when given, again when the token expired.
/// Thread-safe: each call takes a connection of its own from a small pool.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/net/http_client.hpp"

namespace prov {

struct EtcdOptions {
  std::vector<std::string> endpoints;  ///< "http://host:port" or "https://…", at least one
  std::string user;                    ///< empty: no authentication
  std::string password;
  /// Each call, all endpoints tried included; one attempt has a third of it (at least 0.5 s).
  std::chrono::milliseconds request_timeout{5000};
  TlsOptions tls = {};  ///< for https:// endpoints
};

/// One key's value as etcd keeps it.
struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct EtcdRange {
  int64_t revision = 0;  ///< the store's revision when it was read
  std::vector<EtcdKv> kvs;
  bool more = false;  ///< a limit left keys out
};

/// A condition of a transaction on one key.
struct EtcdCompare {
  enum class Target { version, create_revision, mod_revision, value, lease };
  enum class Result { equal, not_equal, greater, less };
  std::string key;
  Target target = Target::version;
  Result result = Result::equal;
  int64_t number = 0;  ///< for every target but value
  std::string value;   ///< for Target::value
  static EtcdCompare absent(std::string key) { return {std::move(key), Target::create_revision, Result::equal, 0, {}}; }
  static EtcdCompare value_is(std::string key, std::string v) {
    return {std::move(key), Target::value, Result::equal, 0, std::move(v)};
  }
  static EtcdCompare mod_revision_is(std::string key, int64_t r) {
    return {std::move(key), Target::mod_revision, Result::equal, r, {}};
  }
};

/// One request inside a transaction.
struct EtcdOp {
  enum class Kind { put, remove, range };
  Kind kind = Kind::put;
  std::string key;
  std::string value;      ///< put
  int64_t lease = 0;      ///< put: bound to this lease (0: none)
  bool prefix = false;    ///< remove and range: every key starting with `key`
  static EtcdOp put(std::string k, std::string v, int64_t lease = 0) {
    return {Kind::put, std::move(k), std::move(v), lease, false};
  }
  static EtcdOp remove(std::string k, bool prefix = false) { return {Kind::remove, std::move(k), {}, 0, prefix}; }
  static EtcdOp get(std::string k, bool prefix = false) { return {Kind::range, std::move(k), {}, 0, prefix}; }
};

struct EtcdTxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::vector<EtcdRange> ranges;  ///< the answers of the range requests of the branch taken, in order
};

/// What changed in a watched range.
struct EtcdEvent {
  bool deleted = false;
  EtcdKv kv;
};

/// A watch over a key range: batches of events in revision order.
class EtcdWatch {
 public:
  using Clock = std::chrono::steady_clock;
  /// The next batch of events; an empty list at `deadline` with nothing new. Throws
  /// ResourceError `provisioning::etcd::compacted` (with compact_revision()) when the start
  /// revision is gone, `provisioning::etcd::unavailable` when the stream broke.
  std::vector<EtcdEvent> next(Clock::time_point deadline);
  /// Readable when next() may have events (poll it); buffered ones are checked first by next().
  int fd() const { return conn_->fd(); }
  /// True when events already read wait in the buffer (poll would not wake for them).
  bool has_buffered() { return conn_->has_buffered_line(); }
  /// The revision after the last event handed out: where a new watch resumes.
  int64_t resume_revision() const { return resume_revision_; }
  int64_t compact_revision() const { return compact_revision_; }

 private:
  friend class EtcdClient;
  std::unique_ptr<HttpConnection> conn_;
  int64_t resume_revision_ = 0;
  int64_t compact_revision_ = 0;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();

  /// The value of `key`; nullopt when absent.
  std::optional<EtcdKv> get(const std::string& key);
  /// Every key starting with `prefix`, in key order; at most `limit` (0: all). `keys_only`
  /// leaves values empty. `from` starts at that key instead of at the prefix.
  EtcdRange range(const std::string& prefix, int64_t limit = 0, bool keys_only = false, const std::string& from = {});
  /// Sets `key`; returns the new revision.
  int64_t put(const std::string& key, const std::string& value, int64_t lease = 0);
  /// Removes `key` (with `prefix`, every key starting with it); returns how many went.
  int64_t remove(const std::string& key, bool prefix = false);
  /// If every compare holds, does `success`, else `failure`, atomically.
  EtcdTxnResult txn(const std::vector<EtcdCompare>& compares, const std::vector<EtcdOp>& success,
                    const std::vector<EtcdOp>& failure = {});

  /// A new lease of `ttl` (whole seconds, at least 1); returns its id.
  int64_t grant_lease(std::chrono::seconds ttl);
  /// Renews lease `id`; returns the seconds it has now, 0 when it had already expired.
  int64_t keep_alive(int64_t id);
  /// Ends lease `id` (its keys go with it); no error when it had expired.
  void revoke_lease(int64_t id);

  /// Watches every key starting with `prefix` from revision `start` (0: from now).
  std::unique_ptr<EtcdWatch> watch(const std::string& prefix, int64_t start);

  /// The endpoint that answered last, for messages.
  std::string current_endpoint() const;

 private:
  /// POSTs `body` to `path` on the first endpoint that answers; its answer's body.
  std::string call(const std::string& path, const std::string& body, bool authenticated = true);
  std::unique_ptr<HttpConnection> take(size_t endpoint);
  void give_back(size_t endpoint, std::unique_ptr<HttpConnection> c);
  std::string token();
  HttpHeaders auth_headers();

  EtcdOptions options_;
  std::vector<HttpEndpoint> endpoints_;
  mutable std::mutex mutex_;
  std::vector<std::vector<std::unique_ptr<HttpConnection>>> idle_;  ///< per endpoint
  size_t preferred_ = 0;  ///< the endpoint that answered last
  std::string token_;     ///< the authentication token, when authenticated
};

/// The end of the range of keys that start with `prefix` (etcd's range_end).
std::string etcd_prefix_end(const std::string& prefix);

}  // namespace prov
