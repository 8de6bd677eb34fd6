#include "core/etcd/etcd_client.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/net/base64.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

ResourceError unavailable(const std::string& why) {
  return ResourceError("provisioning::etcd::unavailable", "etcd is unavailable: " + why,
                       "check that a majority of the etcd members in state.etcd.endpoints is up");
}

int64_t number(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;  // the gateway leaves out fields at their default
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
  }
  throw ResourceError("provisioning::etcd::bad_answer", std::string("etcd answered a bad '") + key + "'");
}

std::string bytes(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_string()) throw ResourceError("provisioning::etcd::bad_answer", std::string("etcd answered a bad '") + key + "'");
  auto decoded = base64_decode(it->get_ref<const std::string&>());
  if (!decoded) throw ResourceError("provisioning::etcd::bad_answer", std::string("etcd answered '") + key + "' not in base64");
  return std::move(*decoded);
}

EtcdKv kv_of(const json& j) {
  EtcdKv kv;
  kv.key = bytes(j, "key");
  kv.value = bytes(j, "value");
  kv.create_revision = number(j, "create_revision");
  kv.mod_revision = number(j, "mod_revision");
  kv.version = number(j, "version");
  kv.lease = number(j, "lease");
  return kv;
}

int64_t revision_of(const json& j) {
  const auto h = j.find("header");
  return h == j.end() ? 0 : number(*h, "revision");
}

EtcdRange range_of(const json& j) {
  EtcdRange r;
  r.revision = revision_of(j);
  if (const auto kvs = j.find("kvs"); kvs != j.end() && kvs->is_array())
    for (const auto& kv : *kvs) r.kvs.push_back(kv_of(kv));
  r.more = j.value("more", false);
  return r;
}

json parse(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw ResourceError("provisioning::etcd::bad_answer", "etcd answered what is not a JSON object");
  return j;
}

json request_json(const EtcdOp& op) {
  switch (op.kind) {
    case EtcdOp::Kind::put: {
      json p = {{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
      if (op.lease != 0) p["lease"] = std::to_string(op.lease);
      return {{"request_put", p}};
    }
    case EtcdOp::Kind::remove: {
      json d = {{"key", base64_encode(op.key)}};
      if (op.prefix) d["range_end"] = base64_encode(etcd_prefix_end(op.key));
      return {{"request_delete_range", d}};
    }
    case EtcdOp::Kind::range: {
      json r = {{"key", base64_encode(op.key)}};
      if (op.prefix) r["range_end"] = base64_encode(etcd_prefix_end(op.key));
      return {{"request_range", r}};
    }
  }
  return {};
}

json compare_json(const EtcdCompare& c) {
  static const char* const results[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  json j = {{"key", base64_encode(c.key)}, {"result", results[static_cast<int>(c.result)]}};
  switch (c.target) {
    case EtcdCompare::Target::version: j["target"] = "VERSION"; j["version"] = std::to_string(c.number); break;
    case EtcdCompare::Target::create_revision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::mod_revision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::value: j["target"] = "VALUE"; j["value"] = base64_encode(c.value); break;
    case EtcdCompare::Target::lease: j["target"] = "LEASE"; j["lease"] = std::to_string(c.number); break;
  }
  return j;
}

}  // namespace

std::string etcd_prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
  if (options_.endpoints.empty())
    throw ConfigError("provisioning::etcd::no_endpoints", "state.etcd.endpoints names no etcd endpoint",
                      "set state.etcd.endpoints to the client URLs of the etcd members");
  for (const auto& e : options_.endpoints) endpoints_.push_back(HttpEndpoint::parse(e));
  idle_.resize(endpoints_.size());
}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::current_endpoint() const {
  std::lock_guard lock(mutex_);
  return endpoints_[preferred_].to_string();
}

std::unique_ptr<HttpConnection> EtcdClient::take(size_t endpoint) {
  std::lock_guard lock(mutex_);
  auto& idle = idle_[endpoint];
  if (!idle.empty()) {
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }
  return std::make_unique<HttpConnection>(endpoints_[endpoint], options_.tls);
}

void EtcdClient::give_back(size_t endpoint, std::unique_ptr<HttpConnection> c) {
  std::lock_guard lock(mutex_);
  if (idle_[endpoint].size() < 8) idle_[endpoint].push_back(std::move(c));
}

HttpHeaders EtcdClient::auth_headers() {
  if (options_.user.empty()) return {};
  return {{"Authorization", token()}};
}

std::string EtcdClient::token() {
  {
    std::lock_guard lock(mutex_);
    if (!token_.empty()) return token_;
  }
  const json req = {{"name", options_.user}, {"password", options_.password}};
  std::string answer;
  try {
    answer = call("/v3/auth/authenticate", req.dump(), false);
  } catch (const ResourceError& e) {
    if (e.code() != "provisioning::etcd::refused") throw;
    const std::string why = e.what();
    const size_t colon = why.find(": ");
    throw ResourceError("provisioning::etcd::auth",
                        "etcd refused the user '" + options_.user + "'" + (colon == std::string::npos ? "" : why.substr(colon)),
                        "check state.etcd.user and state.etcd.password");
  }
  const json j = parse(answer);
  std::lock_guard lock(mutex_);
  token_ = j.value("token", "");
  if (token_.empty())
    throw ResourceError("provisioning::etcd::auth", "etcd refused the user '" + options_.user + "'");
  return token_;
}

std::string EtcdClient::call(const std::string& path, const std::string& body, bool authenticated) {
  const auto deadline = Clock::now() + options_.request_timeout;
  size_t start;
  {
    std::lock_guard lock(mutex_);
    start = preferred_;
  }
  std::string last;
  bool reauthenticated = false;
  // Each attempt has a third of the time: a request a member took just as its leader died
  // waits out etcd's own timeout, and is sent again to the next member meanwhile. What the
  // store sends again is harmless: fenced puts of the same keys, or transactions that
  // recognise their own earlier success.
  const auto slice =
      std::max<std::chrono::milliseconds>(options_.request_timeout / 3, std::chrono::milliseconds(500));
  for (size_t tried = 0; tried < endpoints_.size() * 3 && Clock::now() < deadline; ++tried) {
    const size_t e = (start + tried) % endpoints_.size();
    // Outside the try: a refused user is not an endpoint that failed.
    const HttpHeaders headers = authenticated ? auth_headers() : HttpHeaders{};
    auto conn = take(e);
    HttpResponse r;
    try {
      const auto until = std::min(deadline, Clock::now() + slice);
      r = conn->post(path, body, headers, until);
    } catch (const ResourceError& err) {
      last = err.what();
      continue;  // this member is down or slow: the next one
    }
    if (r.status == 200) {
      give_back(e, std::move(conn));
      std::lock_guard lock(mutex_);
      preferred_ = e;
      return std::move(r.body);
    }
    give_back(e, std::move(conn));
    json j = json::parse(r.body, nullptr, false);
    const std::string message = j.is_object() ? j.value("message", r.body) : r.body;
    const int code = j.is_object() ? j.value("code", 0) : 0;
    if (code == 16 && authenticated && !options_.user.empty() && !reauthenticated) {  // UNAUTHENTICATED: token expired
      {
        std::lock_guard lock(mutex_);
        token_.clear();
      }
      reauthenticated = true;
      --tried;
      continue;
    }
    if (code == 14 || code == 4 || r.status == 503) {  // UNAVAILABLE, DEADLINE_EXCEEDED: no quorum here
      last = endpoints_[e].to_string() + ": " + message;
      continue;
    }
    throw ResourceError("provisioning::etcd::refused", "etcd refused " + path + ": " + message);
  }
  throw unavailable(last.empty() ? "no endpoint answered in time" : last);
}

std::optional<EtcdKv> EtcdClient::get(const std::string& key) {
  const json req = {{"key", base64_encode(key)}};
  EtcdRange r = range_of(parse(call("/v3/kv/range", req.dump())));
  if (r.kvs.empty()) return std::nullopt;
  return std::move(r.kvs.front());
}

EtcdRange EtcdClient::range(const std::string& prefix, int64_t limit, bool keys_only, const std::string& from) {
  json req = {{"key", base64_encode(from.empty() ? prefix : from)},
              {"range_end", base64_encode(etcd_prefix_end(prefix))}};
  if (limit > 0) req["limit"] = std::to_string(limit);
  if (keys_only) req["keys_only"] = true;
  return range_of(parse(call("/v3/kv/range", req.dump())));
}

int64_t EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json req = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) req["lease"] = std::to_string(lease);
  return revision_of(parse(call("/v3/kv/put", req.dump())));
}

int64_t EtcdClient::remove(const std::string& key, bool prefix) {
  json req = {{"key", base64_encode(key)}};
  if (prefix) req["range_end"] = base64_encode(etcd_prefix_end(key));
  return number(parse(call("/v3/kv/deleterange", req.dump())), "deleted");
}

EtcdTxnResult EtcdClient::txn(const std::vector<EtcdCompare>& compares, const std::vector<EtcdOp>& success,
                              const std::vector<EtcdOp>& failure) {
  json req = {{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto& c : compares) req["compare"].push_back(compare_json(c));
  for (const auto& op : success) req["success"].push_back(request_json(op));
  for (const auto& op : failure) req["failure"].push_back(request_json(op));
  const json j = parse(call("/v3/kv/txn", req.dump()));
  EtcdTxnResult r;
  r.succeeded = j.value("succeeded", false);
  r.revision = revision_of(j);
  if (const auto rs = j.find("responses"); rs != j.end() && rs->is_array())
    for (const auto& resp : *rs)
      if (const auto range = resp.find("response_range"); range != resp.end()) r.ranges.push_back(range_of(*range));
  return r;
}

int64_t EtcdClient::grant_lease(std::chrono::seconds ttl) {
  const json req = {{"TTL", std::to_string(std::max<int64_t>(1, ttl.count()))}};
  const json j = parse(call("/v3/lease/grant", req.dump()));
  const int64_t id = number(j, "ID");
  if (id == 0) throw ResourceError("provisioning::etcd::refused", "etcd granted no lease: " + j.value("error", std::string()));
  return id;
}

int64_t EtcdClient::keep_alive(int64_t id) {
  const json req = {{"ID", std::to_string(id)}};
  // The gateway answers a keep-alive stream of one request with one result.
  const std::string body = call("/v3/lease/keepalive", req.dump());
  const size_t nl = body.find('\n');
  const json j = parse(nl == std::string::npos ? body : body.substr(0, nl));
  const auto result = j.find("result");
  if (result == j.end()) throw ResourceError("provisioning::etcd::bad_answer", "etcd answered a keep-alive without a result");
  return number(*result, "TTL");
}

void EtcdClient::revoke_lease(int64_t id) {
  const json req = {{"ID", std::to_string(id)}};
  try {
    call("/v3/lease/revoke", req.dump());
  } catch (const ResourceError& e) {
    if (std::string(e.what()).find("lease not found") == std::string::npos) throw;
  }
}

std::unique_ptr<EtcdWatch> EtcdClient::watch(const std::string& prefix, int64_t start) {
  json create = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(etcd_prefix_end(prefix))}};
  if (start > 0) create["start_revision"] = std::to_string(start);
  const json req = {{"create_request", create}};
  const auto deadline = Clock::now() + options_.request_timeout;
  std::string last;
  size_t first;
  {
    std::lock_guard lock(mutex_);
    first = preferred_;
  }
  for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
    const size_t e = (first + tried) % endpoints_.size();
    auto w = std::make_unique<EtcdWatch>();
    w->conn_ = std::make_unique<HttpConnection>(endpoints_[e], options_.tls);
    w->resume_revision_ = start;
    try {
      const HttpResponse head = w->conn_->start_stream("/v3/watch", req.dump(), auth_headers(), deadline);
      if (head.status != 200) {
        last = endpoints_[e].to_string() + " answered HTTP " + std::to_string(head.status);
        continue;
      }
      // The first message says the watch was created (or why not).
      for (;;) {
        const auto line = w->conn_->next_line(deadline);
        if (!line) throw ResourceError("provisioning::http::timeout", "no answer to the watch");
        if (line->empty()) continue;
        const json j = parse(*line);
        const auto result = j.find("result");
        if (result == j.end()) throw ResourceError("provisioning::etcd::refused", "etcd refused the watch: " + *line);
        if (const int64_t compact = number(*result, "compact_revision"); compact > 0) {
          w->compact_revision_ = compact;
          throw ResourceError("provisioning::etcd::compacted",
                              "etcd no longer has revision " + std::to_string(start) + " (compacted up to " +
                                  std::to_string(compact) + ")");
        }
        if (result->value("created", false)) {
          if (start <= 0) w->resume_revision_ = revision_of(*result) + 1;
          return w;
        }
      }
    } catch (const ResourceError& err) {
      if (err.code() == "provisioning::etcd::compacted" || err.code() == "provisioning::etcd::refused") throw;
      last = err.what();
    }
  }
  throw unavailable(last);
}

std::vector<EtcdEvent> EtcdWatch::next(Clock::time_point deadline) {
  std::vector<EtcdEvent> out;
  for (;;) {
    std::optional<std::string> line;
    try {
      line = conn_->next_line(out.empty() ? deadline : Clock::now());
    } catch (const ResourceError& e) {
      if (!out.empty()) return out;
      throw unavailable(std::string("the watch stream broke: ") + e.what());
    }
    if (!line) return out;
    if (line->empty()) continue;
    const json j = parse(*line);
    const auto result = j.find("result");
    if (result == j.end()) throw unavailable("the watch ended: " + *line);
    if (const int64_t compact = number(*result, "compact_revision"); compact > 0) {
      compact_revision_ = compact;
      throw ResourceError("provisioning::etcd::compacted", "etcd compacted the watched revisions up to " +
                                                               std::to_string(compact));
    }
    if (result->value("canceled", false)) throw unavailable("etcd cancelled the watch");
    if (const auto events = result->find("events"); events != result->end() && events->is_array()) {
      for (const auto& ev : *events) {
        EtcdEvent e;
        e.deleted = ev.value("type", "") == "DELETE";
        if (const auto kv = ev.find("kv"); kv != ev.end()) e.kv = kv_of(*kv);
        if (e.kv.mod_revision >= resume_revision_) resume_revision_ = e.kv.mod_revision + 1;
        out.push_back(std::move(e));
      }
    }
    if (!conn_->has_buffered_line() && !out.empty()) return out;
  }
}

}  // namespace prov
