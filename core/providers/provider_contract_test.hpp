#pragma once
/// The provider contract: what every Provider must do, as Catch2 checks that each provider's
/// tests run against it (check_provider_contract). Include from *_test.cpp files only.

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "core/providers/provider.hpp"
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

/// Runs the contract against a provider from `make`, creating one server from `spec` (which
/// must be valid and named) and removing it again:
/// - create returns a server with an id, the spec's name, the provider's name, state running
///   (or creating) and a created date; list() holds it; get(id) returns the same id and name;
/// - remove(id) returns it with state deleted; afterwards get(id) throws not_found and list()
///   no longer holds it; get and remove of an unknown id throw not_found;
/// - a spec without a name is refused with invalid_spec; test_connectivity() is ok.
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
}

}  // namespace prov::testing
