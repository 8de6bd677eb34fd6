#include "core/state/etcd_store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "core/etcd/etcd_test_cluster.hpp"
#include "core/state/store_test_support.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::error_code;
using prov::testing::event;
using prov::testing::header_for;
using namespace std::chrono_literals;

namespace {

testing::EtcdTestCluster& cluster() { return testing::shared_etcd_cluster(); }

EtcdSettings settings(const std::string& prefix) {
  EtcdSettings s;
  s.endpoints = cluster().endpoints();
  s.prefix = prefix;
  s.lease_ttl = 2s;
  s.request_timeout = 3s;
  return s;
}

/// A store on its own prefix of the shared test cluster, as host `host`.
struct Fixture {
  explicit Fixture(const std::string& name, const std::string& host = "host-a")
      : store(EtcdStoreOptions{settings("/test/" + name + "-" + std::to_string(::getpid())), ws / ".provisioning",
                               ws.path(), host}) {}
  TempDir ws{"prov-etcd-store"};
  EtcdStore store;
};


}  // namespace

TEST_CASE("etcd store: a workflow is created whole, its private config kept apart", "[etcd_store]") {
  Fixture f("create");
  const std::string id = f.store.create_workflow(header_for, Datum(DatumList{Datum("s3cr3t")}));
  CHECK(is_workflow_id(id));
  CHECK(f.store.list_workflows() == std::vector<std::string>{id});
  CHECK(f.store.read_journal(id).header.find("workflow_id")->str() == id);
  CHECK(f.store.read_journal(id).records.empty());
  REQUIRE(f.store.read_private_config(id));
  CHECK(encode_json(*f.store.read_private_config(id)) == R"(["s3cr3t"])");
  CHECK(encode_json(f.store.read_journal(id).header).find("s3cr3t") == std::string::npos);
  const std::string plain = f.store.create_workflow(header_for, Datum());
  CHECK_FALSE(f.store.read_private_config(plain));
  CHECK(f.store.list_workflows().size() == 2);
  CHECK(error_code([&] { f.store.check_workflow_id("wf-20990101-000000-abcdef"); }) ==
        "provisioning::workflow::unknown_id");
  CHECK(error_code([&] { f.store.create_workflow([](const std::string&) -> Datum { throw ResourceError("t::fail", "no"); },
                                                 Datum()); }) == "t::fail");
  CHECK(f.store.list_workflows().size() == 2);
}

TEST_CASE("etcd store: claims exclude each other across hosts, name their holder, tokens grow", "[etcd_store]") {
  Fixture a("claims", "host-a");
  // Host b shares the prefix: the same workflows.
  TempDir ws_b("prov-etcd-store");
  EtcdStore b(EtcdStoreOptions{settings("/test/claims-" + std::to_string(::getpid())), ws_b / ".provisioning",
                               ws_b.path(), "host-b"});
  const std::string id = a.store.create_workflow(header_for, Datum());
  CHECK(b.list_workflows() == std::vector<std::string>{id});
  CHECK_FALSE(a.store.claim_holder(id));
  auto first = a.store.claim(id, 0ms);
  CHECK(first->valid());
  CHECK(first->token() == 1);
  const auto seen_by_b = b.claim_holder(id);
  REQUIRE(seen_by_b);
  CHECK(seen_by_b->host == "host-a");
  CHECK(seen_by_b->pid == static_cast<int64_t>(::getpid()));
  CHECK(a.store.claim_holder(id)->host.empty());  // this host
  CHECK(error_code([&] { b.claim(id, 200ms); }) == "provisioning::state::locked");
  first->release();
  CHECK_FALSE(first->valid());
  CHECK_FALSE(b.claim_holder(id));
  auto second = b.claim(id, 0ms);
  CHECK(second->token() == 2);
}

TEST_CASE("etcd store: a claim that waits longer than its lease's TTL for the holder gets the claim", "[etcd_store]") {
  // Seen under load with a 2 s TTL: the waiting runner's own lease lapsed while it waited the
  // 5 s a runner waits, and its claim failed with "requested lease not found".
  Fixture a("claim-wait", "host-a");
  const std::string id = a.store.create_workflow(header_for, Datum());
  auto first = a.store.claim(id, 0ms);
  std::thread releaser([&] {
    std::this_thread::sleep_for(3500ms);  // past the waiter's TTL (2 s)
    first->release();
  });
  std::unique_ptr<WorkflowClaim> second;
  try {
    second = a.store.claim(id, 6s);
  } catch (...) {
    releaser.join();
    throw;
  }
  releaser.join();
  REQUIRE(second);
  CHECK(second->token() == 2);
  CHECK(second->valid());
  // Its key is bound to a live lease, renewed by the claim: still there after another TTL.
  std::this_thread::sleep_for(2500ms);
  CHECK(second->valid());
  CHECK(a.store.claim_holder(id));
}

TEST_CASE("etcd store: a claim kept alive outlives its TTL, one whose key is gone writes nothing", "[etcd_store]") {
  Fixture f("fencing");
  const std::string id = f.store.create_workflow(header_for, Datum());
  auto claim = f.store.claim(id, 0ms);
  OpenedJournal opened = f.store.open_journal(*claim, Journal::TailRepair::refuse);
  auto log = f.store.open_event_log(*claim);
  opened.writer->wait_durable(opened.writer->append(event(id, event_type::workflow_started).to_datum()));
  log->append(event(id, event_type::workflow_started));
  std::this_thread::sleep_for(2500ms);  // past the 2 s TTL: kept alive
  CHECK(claim->valid());
  CHECK(f.store.claim_holder(id));

  // Its claim goes behind its back while its lease lives on (the moment between its last check
  // and its write, when it was cut off past the TTL): another takes over.
  REQUIRE(f.store.client().remove(f.store.key(id, "claim")) == 1);
  auto other = f.store.claim(id, 3s);
  CHECK(other->token() == 2);
  // The first holder still believes it holds the claim; etcd refuses its writes anyway.
  CHECK(claim->valid());
  CHECK(error_code([&] {
          opened.writer->wait_durable(opened.writer->append(event(id, event_type::workflow_completed).to_datum()));
        }) == "provisioning::state::claim_lost");
  CHECK(error_code([&] { log->append(event(id, event_type::workflow_completed)); }) ==
        "provisioning::state::claim_lost");
  CHECK(f.store.read_journal(id).records.size() == 1);
  CHECK(f.store.read_events(id).size() == 1);
  // A lease that ends (revoked here, as when it lapsed) ends the claim's validity too.
  const auto kv = f.store.client().get(f.store.key(id, "claim"));
  REQUIRE(kv);
  f.store.client().revoke_lease(kv->lease);
  bool lapsed = false;
  for (int i = 0; i < 40 && !lapsed; ++i) {
    std::this_thread::sleep_for(100ms);
    lapsed = !other->valid();
  }
  CHECK(lapsed);
}

TEST_CASE("etcd store: concurrent appends share batches, keep their order and survive a compaction", "[etcd_store]") {
  Fixture f("journal");
  const std::string id = f.store.create_workflow(header_for, Datum());
  auto claim = f.store.claim(id, 0ms);
  OpenedJournal opened = f.store.open_journal(*claim, Journal::TailRepair::refuse);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        const uint64_t seq = opened.writer->append(Datum(DatumRecord{{"t", Datum(t)}, {"i", Datum(i)}}));
        opened.writer->wait_durable(seq);
      }
    });
  for (auto& t : threads) t.join();
  auto recovery = f.store.read_journal(id);
  REQUIRE(recovery.records.size() == 240);
  std::vector<int64_t> next(4, 0);
  for (const auto& r : recovery.records) {  // each thread's records in its own order
    const int64_t t = std::get<int64_t>(r.find("t")->v);
    CHECK(std::get<int64_t>(r.find("i")->v) == next[static_cast<size_t>(t)]++);
  }
  // A checkpoint replaces the records; later appends follow it, and a new writer goes on after.
  opened.writer->compact(header_for(id), {Datum("summary")});
  opened.writer->wait_durable(opened.writer->append(Datum("after")));
  recovery = f.store.read_journal(id);
  REQUIRE(recovery.records.size() == 2);
  CHECK(recovery.records[0] == Datum("summary"));
  CHECK(recovery.records[1] == Datum("after"));
  claim->release();
  auto again = f.store.claim(id, 0ms);
  OpenedJournal reopened = f.store.open_journal(*again, Journal::TailRepair::refuse);
  CHECK(reopened.recovery.records.size() == 2);
  reopened.writer->wait_durable(reopened.writer->append(Datum("resumed")));
  CHECK(f.store.read_journal(id).records.back() == Datum("resumed"));
  CHECK(f.store.read_journal(id).records.size() == 3);
}

TEST_CASE("etcd store: a feed gives each event once, in order, and wakes when one is written", "[etcd_store]") {
  Fixture f("feed");
  const std::string a = f.store.create_workflow(header_for, Datum());
  auto all = f.store.follow(std::nullopt);
  auto only_a = f.store.follow(a);
  CHECK(all->poll().empty());
  CHECK(only_a->poll().empty());
  auto ca = f.store.claim(a, 0ms);
  f.store.open_event_log(*ca)->append(event(a, event_type::workflow_started));
  CHECK(all->wait(5s));  // woken by the write, not by the timeout
  std::vector<Event> got;
  for (int i = 0; i < 50 && got.empty(); ++i) {
    got = all->poll();
    if (got.empty()) all->wait(100ms);
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == event_type::workflow_started);
  CHECK(all->poll().empty());
  // A workflow made after the feed started is followed by the feed of all only.
  const std::string b = f.store.create_workflow(header_for, Datum());
  auto cb = f.store.claim(b, 0ms);
  f.store.open_event_log(*cb)->append(event(b, event_type::workflow_started));
  std::vector<Event> more;
  for (int i = 0; i < 50 && more.empty(); ++i) {
    all->wait(100ms);
    more = all->poll();
  }
  REQUIRE(more.size() == 1);
  CHECK(more[0].workflow_id == b);
  std::vector<Event> of_a;
  for (int i = 0; i < 50 && of_a.empty(); ++i) {
    only_a->wait(100ms);
    of_a = only_a->poll();
  }
  REQUIRE(of_a.size() == 1);
  CHECK(of_a[0].workflow_id == a);
  CHECK(only_a->poll().empty());
  // A watched runner letting go wakes the feed.
  only_a->watch_runner(a);
  ca->release();
  bool woke = false;
  for (int i = 0; i < 50 && !woke; ++i) {
    only_a->poll();
    woke = only_a->wait(100ms) && !f.store.claim_holder(a);
  }
  CHECK(woke);
}

TEST_CASE("etcd store: this host's files of a workflow are local and private", "[etcd_store]") {
  Fixture f("local");
  const std::string id = f.store.create_workflow(header_for, Datum());
  const LocalFiles files = f.store.local_files(id);
  CHECK(files.runner_log.rfind(f.ws.path(), 0) == 0);
  struct stat st {};
  REQUIRE(::stat((f.ws / ".provisioning/workflows/" + id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK_FALSE(f.store.open_operation_log(id, "none"));
}

TEST_CASE("etcd store: a feed whose watch broke reads again: what was written meanwhile, compacted, comes once",
          "[etcd_store]") {
  testing::EtcdTestCluster own(3);
  TempDir ws{"prov-etcd-feed"};
  const EtcdSettings s = testing::etcd_test_settings(own.endpoints(), "/feed");
  EtcdStore store(EtcdStoreOptions{s, ws / ".provisioning", ws.path(), "host-a"});
  const std::string id = store.create_workflow(header_for, Datum());
  auto claim = store.claim(id, 0ms);
  auto log = store.open_event_log(*claim);
  auto feed = store.follow(id);
  const auto next = [&](size_t want) {
    std::vector<std::string> got;
    for (int i = 0; i < 100 && got.size() < want; ++i) {
      for (const Event& e : feed->poll()) got.push_back(*e.operation);
      if (got.size() < want) feed->wait(100ms);
    }
    for (const Event& e : feed->poll()) got.push_back(*e.operation);  // nothing more
    return got;
  };
  const auto op_event = [&](const std::string& op) {
    Event e = event(id, event_type::operation_started);
    e.operation = op;
    return e;
  };
  log->append(op_event("one"));
  CHECK(next(1) == std::vector<std::string>{"one"});
  // The member the feed watches through goes away; meanwhile two events are written and etcd
  // compacts its history up to now: the revision the watch would resume from is gone.
  own.kill(0);
  // Until the two left have a leader again (the one killed may have led).
  for (int i = 0; i < 100; ++i) {
    try {
      store.client().put(store.key(id, "marker"), "x");
      break;
    } catch (const ResourceError&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  log->append(op_event("two"));
  log->append(op_event("three"));
  const int64_t now = store.client().put(store.key(id, "marker"), "x");
  const ProcessOutput compacted = run_captured({"etcdctl", "--endpoints", own.endpoints()[1], "compact",
                                                std::to_string(now)});
  REQUIRE(compacted.exit_code == 0);
  CHECK(next(2) == std::vector<std::string>{"two", "three"});
  own.start(0);
  log->append(op_event("four"));
  CHECK(next(1) == std::vector<std::string>{"four"});
}

TEST_CASE("etcd store: without quorum a runner's writes fail as unavailable, batches whole, records naming their claim",
          "[etcd_store]") {
  testing::EtcdTestCluster own(3);
  TempDir ws{"prov-etcd-quorum"};
  const EtcdSettings s = testing::etcd_test_settings(own.endpoints(), "/quorum");
  EtcdStore store(EtcdStoreOptions{s, ws / ".provisioning", ws.path(), "host-a"});
  const std::string id = store.create_workflow(header_for, Datum());
  auto claim = store.claim(id, 0ms);
  OpenedJournal opened = store.open_journal(*claim, Journal::TailRepair::refuse);
  for (const char* type :
       {event_type::workflow_started, event_type::operation_started, event_type::operation_succeeded})
    opened.writer->append(event(id, type).to_datum());
  opened.writer->sync();
  // Each record in etcd names the claim it was written under.
  const auto keys = store.client().range(store.key(id, "journal/")).kvs;
  REQUIRE(keys.size() == 3);
  for (const auto& kv : keys) {
    const Datum d = decode_json(kv.value);
    REQUIRE(d.find("claim"));
    CHECK(*d.find("claim") == Datum(int64_t{1}));
    CHECK(d.find("record")->find("type"));
  }

  own.kill(1);
  own.kill(2);  // no quorum
  const uint64_t seq = opened.writer->append(event(id, event_type::operation_started).to_datum());
  CHECK(error_code([&] { opened.writer->wait_durable(seq); }) == "provisioning::etcd::unavailable");
  std::this_thread::sleep_for(2500ms);  // past the TTL: the claim is no longer surely held
  CHECK_FALSE(claim->valid());
  try {
    opened.writer->append(event(id, event_type::operation_started).to_datum());
    FAIL("a record was taken with the claim's renewals unanswered");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::etcd::unavailable");
    CHECK(std::string(e.what()).find("lease renewals unanswered") != std::string::npos);
    CHECK(e.help().find("prov workflow resume " + id) != std::string::npos);
  }

  own.start(1);
  own.start(2);
  // With quorum back, the stopped writer stays stopped; its runner exits (releasing the claim,
  // or letting it lapse), another takes over, and the batch that failed is there whole or not
  // at all.
  CHECK(error_code([&] { opened.writer->sync(); }) == "provisioning::etcd::unavailable");
  claim->release();
  EtcdStore other(EtcdStoreOptions{s, ws / ".provisioning-b", ws.path(), "host-b"});
  std::unique_ptr<WorkflowClaim> taken;
  for (int i = 0; i < 20 && !taken; ++i) {
    try {
      taken = other.claim(id, 2s);
    } catch (const ResourceError&) {
      std::this_thread::sleep_for(200ms);
    }
  }
  REQUIRE(taken);
  CHECK(taken->token() == 2);
  const size_t n = other.read_journal(id).records.size();
  CHECK((n == 3 || n == 4));
  CHECK_FALSE(error_code([&] { opened.writer->sync(); }).empty());
  CHECK(other.read_journal(id).records.size() == n);
}
