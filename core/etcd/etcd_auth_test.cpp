// The etcd client with a user and password: a real one-member etcd with authentication enabled
// (with etcdctl, as an operator would), tokens that expire after a second.
#include <catch2/catch.hpp>
#include <thread>

#include "core/etcd/etcd_client.hpp"
#include "core/etcd/etcd_test_cluster.hpp"
#include "core/support/error.hpp"
#include "core/support/process.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {

/// One member with users root (every right) and ci, authentication on, tokens of 1 s.
testing::EtcdTestCluster& secured() {
  static const auto c = [] {
    auto made = std::make_unique<testing::EtcdTestCluster>(
        1, std::vector<std::string>{"--auth-token", "simple", "--auth-token-ttl", "1"});
    const std::string e = made->endpoints().front();
    const auto plain = [&](std::vector<std::string> args) {
      std::vector<std::string> argv{"etcdctl", "--endpoints", e};
      argv.insert(argv.end(), args.begin(), args.end());
      if (run_captured(argv).exit_code != 0) throw std::runtime_error("etcdctl failed");
    };
    plain({"user", "add", "root:rootpw"});
    plain({"user", "add", "ci:cipw"});
    plain({"role", "add", "provisioning"});
    plain({"role", "grant-permission", "provisioning", "--prefix=true", "readwrite", "/auth/"});
    plain({"user", "grant-role", "ci", "provisioning"});
    plain({"auth", "enable"});
    return made;
  }();
  return *c;
}

EtcdOptions as(const std::string& user, const std::string& password) {
  EtcdOptions o = secured().options(2000ms);
  o.user = user;
  o.password = password;
  return o;
}

}  // namespace

TEST_CASE("etcd auth: a user works within its rights, again after its token expired", "[etcd][auth]") {
  EtcdClient c(as("ci", "cipw"));
  const int64_t start = c.put("/auth/a", "one");
  CHECK(c.get("/auth/a")->value == "one");
  auto w = c.watch("/auth/", start + 1);
  std::this_thread::sleep_for(2500ms);  // past the token's TTL: the next call authenticates again
  c.put("/auth/b", "two");
  CHECK(c.get("/auth/b")->value == "two");
  size_t seen = 0;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (seen < 1 && std::chrono::steady_clock::now() < until)
    seen += w->next(std::chrono::steady_clock::now() + 500ms).size();
  CHECK(seen == 1);
  // Outside its role's prefix it is refused, naming what.
  try {
    c.put("/elsewhere", "x");
    FAIL("a put outside the user's rights was taken");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::refused");
    CHECK_THAT(e.what(), Catch::Contains("permission denied"));
  }
}

TEST_CASE("etcd auth: a wrong password or no user is refused, and the password is never shown", "[etcd][auth]") {
  try {
    EtcdClient(as("ci", "wrong-secret")).get("/auth/a");
    FAIL("a wrong password was taken");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::auth");
    CHECK_THAT(e.what(), Catch::StartsWith("etcd refused the user 'ci': ") && Catch::Contains("authentication failed"));
    CHECK_THAT(e.what(), !Catch::Contains("wrong-secret"));
  }
  try {
    EtcdClient(as("", "")).get("/auth/a");
    FAIL("no user was taken");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::refused");
    CHECK_THAT(e.what(), Catch::Contains("user name is empty"));
  }
}
