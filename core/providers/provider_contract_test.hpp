#pragma once
/// The provider contract: what every Provider must do, as Catch2 checks that each provider's
/// tests run against it (check_provider_contract). Include from *_test.cpp files only.

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/providers/provider.hpp"
#include "core/providers/server_identity.hpp"
#include "core/support/error.hpp"

namespace prov::testing {

/// The code of the ProviderError that `f` throws; "" when it returns normally. Any other
/// exception fails the test.
inline std::string provider_error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const ProviderError& e) {
    return e.code();
  }
  return "";
}

/// True when `servers` holds one with `id`.
inline bool has_server(const std::vector<Server>& servers, const std::string& id) {
  return std::any_of(servers.begin(), servers.end(), [&](const Server& s) { return s.id == id; });
}

/// Removes a created server when a check failed before the contract removed it, so that a
/// failing provider leaves nothing running behind.
class ServerGuard {
 public:
  ServerGuard(Provider& p, std::string id) : p_(p), id_(std::move(id)) {}
  ~ServerGuard() {
    if (id_.empty()) return;
    try {
      p_.remove(id_);
    } catch (...) {
    }
  }
  void release() { id_.clear(); }
  ServerGuard(const ServerGuard&) = delete;
  ServerGuard& operator=(const ServerGuard&) = delete;

 private:
  Provider& p_;
  std::string id_;
};

/// The value of `key` in a server's record; null when it has none.
inline Datum server_field(const Server& s, const std::string& key) {
  const Datum d = s.to_datum();
  const Datum* v = d.find(key);
  return v ? *v : Datum();
}

/// The identity part of the contract (see check_provider_contract) on `p` with `spec`.
inline void check_identity_contract(Provider& p, ServerSpec spec) {
  spec.plan = "small";
  spec.labels = {{"tier", Datum("contract")}};
  const CreateOutcome first = create_server(p, spec, false);
  ServerGuard guard(p, first.server.id);
  CHECK(first.change == server_change::created);
  CHECK(server_field(first.server, "plan") == Datum("small"));
  CHECK(server_field(first.server, "labels") == Datum(spec.labels));

  const CreateOutcome again = create_server(p, spec, false);
  CHECK(again.change == server_change::unchanged);
  CHECK(again.server.id == first.server.id);
  const auto named = [&] {
    size_t n = 0;
    for (const Server& s : p.list()) n += s.name == spec.name ? 1 : 0;
    return n;
  };
  CHECK(named() == 1);

  ServerSpec other = spec;
  other.labels = {{"tier", Datum("changed")}};
  std::string message;
  try {
    create_server(p, other, false);
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::server::exists");
    message = e.what();
  }
  CHECK(message.find("labels") != std::string::npos);
  CHECK(message.find("changed") != std::string::npos);
  CHECK(named() == 1);

  const CreateOutcome replaced = create_server(p, other, true);
  guard.release();
  ServerGuard guard2(p, replaced.server.id);
  CHECK(replaced.change == server_change::replaced);
  REQUIRE(replaced.removed);
  CHECK(replaced.removed->id == first.server.id);
  CHECK(server_field(replaced.server, "labels") == Datum(other.labels));
  CHECK(named() == 1);
  CHECK(provider_error_code([&] { p.get(first.server.id); }) == "provisioning::provider::not_found");

  ServerSpec typo = spec;
  typo.name = spec.name + "-typo";
  typo.extra = {{"lables", Datum(DatumRecord{})}};
  message.clear();
  try {
    create_server(p, typo, false);
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::provider::invalid_spec");
    message = e.what();
  }
  CHECK(message.find("did you mean `labels`") != std::string::npos);

  p.remove(replaced.server.id);
  guard2.release();
}

/// Runs the contract against a provider from `make`, creating one server from `spec` (which
/// must be valid and named) and removing it again:
/// - create returns a server with an id, the spec's name, the provider's name, state running
///   (or creating) and a created date; list() holds it; get(id) returns the same id and name;
/// - remove(id) returns it with state deleted; afterwards get(id) throws not_found and list()
///   no longer holds it; get and remove of an unknown id throw not_found;
/// - a spec without a name is refused with invalid_spec; test_connectivity() is ok;
/// - the server's record holds `plan` and `labels` as the spec gave them;
/// - identity (create_server): the same spec again is `unchanged` (same id, one server of that
///   name); other labels are refused with provisioning::server::exists naming `labels`, and
///   replace removes the old server and creates another; a field the provider does not take is
///   refused with invalid_spec and a did-you-mean.
inline void check_provider_contract(const std::function<std::unique_ptr<Provider>()>& make, const ServerSpec& spec) {
  std::unique_ptr<Provider> p = make();
  REQUIRE(p);
  REQUIRE_FALSE(p->name().empty());
  REQUIRE_FALSE(spec.name.empty());

  const Connectivity c = p->test_connectivity();
  CHECK(c.ok);
  CHECK(c.duration.nanos >= 0);

  const Server created = p->create(spec);
  ServerGuard guard(*p, created.id);
  REQUIRE_FALSE(created.id.empty());
  CHECK(created.name == spec.name);
  CHECK(created.provider == p->name());
  CHECK((created.state == server_state::running || created.state == server_state::creating));
  CHECK_FALSE(created.created.rfc3339.empty());

  CHECK(has_server(p->list(), created.id));

  const Server got = p->get(created.id);
  CHECK(got.id == created.id);
  CHECK(got.name == spec.name);
  CHECK(got.provider == p->name());

  const Server removed = p->remove(created.id);
  guard.release();
  CHECK(removed.id == created.id);
  CHECK(removed.name == spec.name);
  CHECK(removed.state == server_state::deleted);

  CHECK(provider_error_code([&] { p->get(created.id); }) == "provisioning::provider::not_found");
  CHECK_FALSE(has_server(p->list(), created.id));

  const std::string unknown = "prov-contract-no-such-server-1f3a9";
  CHECK(provider_error_code([&] { p->get(unknown); }) == "provisioning::provider::not_found");
  CHECK(provider_error_code([&] { p->remove(unknown); }) == "provisioning::provider::not_found");

  ServerSpec nameless = spec;
  nameless.name.clear();
  std::string code;
  const size_t before = p->list().size();
  code = provider_error_code([&] {
    Server s = p->create(nameless);
    ServerGuard g(*p, s.id);  // a provider that wrongly accepted it must not leave it running
  });
  CHECK(code == "provisioning::provider::invalid_spec");
  CHECK(p->list().size() == before);

  check_identity_contract(*p, spec);
}

/// An in-memory provider that keeps the contract: for checking the contract suite itself and
/// for tests of what uses providers. Servers live in `store` when given (shared by every
/// instance made with it), else in the object. A spec named `fail` fails as a provider would.
class MemoryProvider : public Provider {
 public:
  explicit MemoryProvider(std::map<std::string, Server>* store = nullptr) : store_(store ? store : &own_) {}
  const std::string& name() const override { return name_; }
  std::vector<Server> list() override {
    std::vector<Server> out;
    for (const auto& [id, s] : *store_) out.push_back(s);
    return out;
  }
  Server create(const ServerSpec& spec) override {
    if (spec.name.empty()) throw ProviderError("provisioning::provider::invalid_spec", "a server needs a name");
    if (spec.name == "fail") throw ProviderError("provisioning::provider::failed", "quota exceeded");
    Server s;
    s.id = spec.name + "-" + std::to_string(++next_);
    s.name = spec.name;
    s.provider = name_;
    s.state = server_state::running;
    s.created = DateTime{"2026-01-02T03:04:05+00:00"};
    s.fields = {{"plan", spec.plan.empty() ? Datum() : Datum(spec.plan)}, {"labels", Datum(spec.labels)}};
    for (const auto& kv : spec.extra) s.fields.push_back(kv);
    (*store_)[s.id] = s;
    return s;
  }
  Server get(const std::string& id) override {
    auto it = store_->find(id);
    if (it == store_->end()) throw ProviderError("provisioning::provider::not_found", "no server " + id);
    return it->second;
  }
  Server remove(const std::string& id) override {
    Server s = get(id);
    store_->erase(id);
    s.state = server_state::deleted;
    return s;
  }
  Connectivity test_connectivity() override { return {true, "in memory", Duration{1}}; }
  std::vector<std::string> spec_fields() override { return {"region"}; }

 private:
  std::string name_ = "memory";
  std::map<std::string, Server> own_;
  std::map<std::string, Server>* store_;
  int next_ = 0;
};

}  // namespace prov::testing
