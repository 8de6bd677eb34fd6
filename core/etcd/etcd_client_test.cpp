#include "core/etcd/etcd_client.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "core/etcd/etcd_test_cluster.hpp"
#include "core/support/error.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {
testing::EtcdTestCluster& cluster() { return testing::shared_etcd_cluster(); }
}  // namespace

TEST_CASE("etcd: keys are put, read, listed by prefix and removed, whatever their bytes", "[etcd]") {
  EtcdClient c(cluster().options());
  const std::string binary("/t1/bin\0\xff", 9);
  c.put("/t1/a", "one");
  c.put("/t1/b", std::string("two\0\n", 5));
  c.put(binary, "three");
  c.put("/t2/a", "other");
  REQUIRE(c.get("/t1/a"));
  CHECK(c.get("/t1/a")->value == "one");
  CHECK(c.get("/t1/b")->value == std::string("two\0\n", 5));
  CHECK_FALSE(c.get("/t1/none"));

  const EtcdRange r = c.range("/t1/");
  REQUIRE(r.kvs.size() == 3);
  CHECK(r.kvs[0].key == "/t1/a");
  CHECK(r.kvs[1].key == "/t1/b");
  CHECK(r.kvs[2].key == binary);
  CHECK(r.revision > 0);

  const EtcdRange page = c.range("/t1/", 2);
  CHECK(page.kvs.size() == 2);
  CHECK(page.more);
  const EtcdRange rest = c.range("/t1/", 0, true, page.kvs.back().key + '\0');
  REQUIRE(rest.kvs.size() == 1);
  CHECK(rest.kvs[0].key == binary);
  CHECK(rest.kvs[0].value.empty());  // keys only

  CHECK(c.remove("/t1/", true) == 3);
  CHECK(c.range("/t1/").kvs.empty());
  CHECK(c.get("/t2/a")->value == "other");
}

TEST_CASE("etcd: a transaction's compares choose its branch, atomically", "[etcd]") {
  EtcdClient c(cluster().options());
  // Create-if-absent: the first wins, the second sees the winner's value.
  auto first = c.txn({EtcdCompare::absent("/tx/claim")}, {EtcdOp::put("/tx/claim", "runner-1")},
                     {EtcdOp::get("/tx/claim")});
  CHECK(first.succeeded);
  auto second = c.txn({EtcdCompare::absent("/tx/claim")}, {EtcdOp::put("/tx/claim", "runner-2")},
                      {EtcdOp::get("/tx/claim")});
  CHECK_FALSE(second.succeeded);
  REQUIRE(second.ranges.size() == 1);
  REQUIRE(second.ranges[0].kvs.size() == 1);
  CHECK(second.ranges[0].kvs[0].value == "runner-1");

  // A write fenced on the claim's value: refused once another holds it.
  auto fenced = c.txn({EtcdCompare::value_is("/tx/claim", "runner-1")}, {EtcdOp::put("/tx/journal/1", "rec")});
  CHECK(fenced.succeeded);
  c.put("/tx/claim", "runner-2");
  auto late = c.txn({EtcdCompare::value_is("/tx/claim", "runner-1")}, {EtcdOp::put("/tx/journal/2", "late")});
  CHECK_FALSE(late.succeeded);
  CHECK_FALSE(c.get("/tx/journal/2"));
  c.remove("/tx/", true);
}

TEST_CASE("etcd: a key bound to a lease goes when the lease is revoked or lapses", "[etcd]") {
  EtcdClient c(cluster().options());
  const int64_t lease = c.grant_lease(2s);
  CHECK(lease != 0);
  c.put("/lease/held", "x", lease);
  CHECK(c.keep_alive(lease) >= 1);
  CHECK(c.get("/lease/held")->lease == lease);
  c.revoke_lease(lease);
  CHECK_FALSE(c.get("/lease/held"));
  CHECK(c.keep_alive(lease) == 0);  // gone
  CHECK_NOTHROW(c.revoke_lease(lease));

  const int64_t short_lease = c.grant_lease(1s);
  c.put("/lease/lapsing", "y", short_lease);
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) {
    std::this_thread::sleep_for(100ms);
    gone = !c.get("/lease/lapsing");
  }
  CHECK(gone);
}

TEST_CASE("etcd: a watch sees puts and deletes in order and resumes from a revision", "[etcd]") {
  EtcdClient c(cluster().options());
  const int64_t before = c.put("/w/start", "0");
  auto w = c.watch("/w/", before + 1);
  c.put("/w/a", "1");
  c.put("/w/a", "2");
  c.remove("/w/a");
  std::vector<EtcdEvent> seen;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (seen.size() < 3 && std::chrono::steady_clock::now() < until) {
    for (auto& e : w->next(std::chrono::steady_clock::now() + 500ms)) seen.push_back(std::move(e));
  }
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].kv.value == "1");
  CHECK(seen[1].kv.value == "2");
  CHECK(seen[2].deleted);
  CHECK(seen[2].kv.key == "/w/a");

  // A new watch from the first one's resume revision sees only what came after.
  const int64_t resume = w->resume_revision();
  w.reset();
  c.put("/w/b", "3");
  auto again = c.watch("/w/", resume);
  const auto batch = again->next(std::chrono::steady_clock::now() + 5s);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].kv.key == "/w/b");
  // Nothing more: next() returns empty at its deadline.
  CHECK(again->next(std::chrono::steady_clock::now() + 200ms).empty());
  c.remove("/w/", true);
}

TEST_CASE("etcd: with one member down the others answer, with no quorum it is unavailable", "[etcd]") {
  testing::EtcdTestCluster own(3);
  EtcdClient c(own.options(3000ms));
  c.put("/f/a", "1");
  own.kill(0);
  CHECK(c.get("/f/a")->value == "1");
  c.put("/f/b", "2");
  own.kill(1);  // no quorum left: refused, not hung
  try {
    c.put("/f/c", "3");
    FAIL("a put without quorum succeeded");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::unavailable");
  }
  own.start(0);
  own.start(1);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    try {
      c.put("/f/c", "3");
      back = true;
    } catch (const ResourceError&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  CHECK(back);
  CHECK(c.get("/f/b")->value == "2");
}

TEST_CASE("etcd: endpoints must be http URLs", "[etcd]") {
  CHECK_THROWS_AS(EtcdClient(EtcdOptions{}), ConfigError);
  CHECK_THROWS_AS(EtcdClient(EtcdOptions{{"127.0.0.1:2379"}, {}, {}, 1000ms}), ConfigError);
  EtcdClient nobody(EtcdOptions{{"http://127.0.0.1:" + std::to_string(testing::free_port())}, {}, {}, 500ms});
  try {
    nobody.get("/x");
    FAIL("an unreachable etcd answered");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::unavailable");
    CHECK(std::string(e.what()).find("cannot be reached") != std::string::npos);
  }
}
