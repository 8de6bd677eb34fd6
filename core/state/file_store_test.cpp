#include "core/state/file_store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/state/store_test_support.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::error_code;
using prov::testing::event;
using prov::testing::header_for;

namespace {


}  // namespace

TEST_CASE("file store: a workflow is created whole, its private config kept apart and private", "[store]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  std::string seen;
  const std::string id = store.create_workflow(
      [&](const std::string& i) {
        seen = i;
        return header_for(i);
      },
      Datum(DatumList{Datum("s3cr3t")}));
  CHECK(seen == id);
  CHECK(is_workflow_id(id));
  CHECK(store.list_workflows() == std::vector<std::string>{id});
  CHECK(store.read_journal(id).header.find("workflow_id")->str() == id);
  CHECK(store.read_journal(id).records.empty());
  const std::optional<Datum> secrets = store.read_private_config(id);
  REQUIRE(secrets);
  CHECK(encode_json(*secrets) == R"(["s3cr3t"])");
  struct stat st {};
  REQUIRE(::stat(store.private_config_location(id).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The journal never holds it.
  CHECK(encode_json(store.read_journal(id).header).find("s3cr3t") == std::string::npos);
  // None kept: none read.
  const std::string plain = store.create_workflow(header_for, Datum());
  CHECK_FALSE(store.read_private_config(plain));
  CHECK(error_code([&] { store.check_workflow_id("wf-20990101-000000-abcdef"); }) ==
        "provisioning::workflow::unknown_id");
}

TEST_CASE("file store: a failed creation leaves no workflow behind", "[store]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  CHECK(error_code([&] {
          store.create_workflow([](const std::string&) -> Datum { throw ResourceError("test::fail", "no"); }, Datum());
        }) == "test::fail");
  CHECK(store.list_workflows().empty());
}

TEST_CASE("file store: claims exclude each other, name their holder and carry a growing fencing token", "[store]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  const std::string id = store.create_workflow(header_for, Datum());
  CHECK_FALSE(store.claim_holder(id));
  std::unique_ptr<WorkflowClaim> first = store.claim(id, std::chrono::milliseconds(0));
  CHECK(first->valid());
  CHECK(first->token() == 1);
  const std::optional<ClaimHolder> holder = store.claim_holder(id);
  REQUIRE(holder);
  CHECK(holder->pid == static_cast<int64_t>(::getpid()));
  CHECK(holder->host.empty());
  CHECK(error_code([&] { store.claim(id, std::chrono::milliseconds(0)); }) == "provisioning::state::locked");
  first->release();
  CHECK_FALSE(first->valid());
  CHECK_FALSE(store.claim_holder(id));
  std::unique_ptr<WorkflowClaim> second = store.claim(id, std::chrono::milliseconds(0));
  CHECK(second->token() == 2);
}

TEST_CASE("file store: a holder that let go of its claim writes nothing more (fencing)", "[store]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  const std::string id = store.create_workflow(header_for, Datum());
  std::unique_ptr<WorkflowClaim> claim = store.claim(id, std::chrono::milliseconds(0));
  OpenedJournal opened = store.open_journal(*claim, Journal::TailRepair::refuse);
  std::unique_ptr<EventAppender> log = store.open_event_log(*claim);
  opened.writer->wait_durable(opened.writer->append(event(id, event_type::workflow_started).to_datum()));
  log->append(event(id, event_type::workflow_started));
  claim->release();
  CHECK(error_code([&] { opened.writer->append(event(id, event_type::workflow_completed).to_datum()); }) ==
        "provisioning::state::claim_lost");
  CHECK(error_code([&] { log->append(event(id, event_type::workflow_completed)); }) ==
        "provisioning::state::claim_lost");
  CHECK(error_code([&] { store.open_event_log(*claim); }) == "provisioning::state::claim_lost");
  CHECK(store.read_journal(id).records.size() == 1);
  CHECK(store.read_events(id).size() == 1);
}

TEST_CASE("file store: a feed gives each event once, in order, and wakes when a log grows", "[store]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  const std::string a = store.create_workflow(header_for, Datum());
  std::unique_ptr<EventFeed> all = store.follow(std::nullopt);
  std::unique_ptr<EventFeed> only_a = store.follow(a);
  CHECK(all->poll().empty());
  std::unique_ptr<WorkflowClaim> ca = store.claim(a, std::chrono::milliseconds(0));
  store.open_event_log(*ca)->append(event(a, event_type::workflow_started));
  CHECK(all->wait(std::chrono::seconds(5)));  // woken by the write, not by the timeout
  CHECK(all->poll().size() == 1);
  CHECK(all->poll().empty());
  // A workflow made after the feed started is followed too, by the feed of all only.
  const std::string b = store.create_workflow(header_for, Datum());
  std::unique_ptr<WorkflowClaim> cb = store.claim(b, std::chrono::milliseconds(0));
  store.open_event_log(*cb)->append(event(b, event_type::workflow_started));
  const std::vector<Event> more = all->poll();
  REQUIRE(more.size() == 1);
  CHECK(more[0].workflow_id == b);
  const std::vector<Event> of_a = only_a->poll();
  REQUIRE(of_a.size() == 1);
  CHECK(of_a[0].workflow_id == a);
  CHECK(only_a->poll().empty());
  CHECK_FALSE(only_a->wait(std::chrono::milliseconds(50)));  // nothing new: the timeout
}

TEST_CASE("file store: managed servers are kept one per name, private, and forgotten", "[store][infra]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  CHECK(store.managed_servers().empty());
  ManagedServer api{"api", "local", "api-1", {}, Datum(DatumRecord{{"name", Datum("api")}}), Datum()};
  ManagedServer web{"web/1",
                    "local",
                    "web-1",
                    {"api"},
                    Datum(DatumRecord{{"name", Datum("web/1")}}),
                    Datum(DatumRecord{{"state", Datum("running")}})};
  store.put_managed_server(web);
  store.put_managed_server(api);
  REQUIRE(store.managed_servers() == std::vector<ManagedServer>{api, web});
  struct stat st {};
  REQUIRE(::stat((ws / ".provisioning/infra/servers").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((ws / ".provisioning/infra/servers/api").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  api.id = "api-2";
  store.put_managed_server(api);
  CHECK(store.managed_servers().front().id == "api-2");
  store.forget_managed_server("web/1");
  store.forget_managed_server("nobody");
  CHECK(store.managed_servers() == std::vector<ManagedServer>{api});
}

TEST_CASE("file store: the pending apply is kept and cleared", "[store][infra]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  CHECK_FALSE(store.pending_apply());
  const Datum pending(DatumRecord{{"workflow_id", Datum("wf-1")}});
  store.set_pending_apply(pending);
  CHECK(store.pending_apply() == pending);
  store.set_pending_apply(std::nullopt);
  CHECK_FALSE(store.pending_apply());
}

TEST_CASE("file store: the infrastructure lock is refused naming its holder, then free once released",
          "[store][infra]") {
  TempDir ws("prov-store");
  FileStore store(ws / ".provisioning", ws.path());
  auto held = store.lock_infra(std::chrono::milliseconds(0), "prov infra apply");
  try {
    store.lock_infra(std::chrono::milliseconds(0), "prov infra plan");
    FAIL("a second holder got the lock");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::state::locked");
    CHECK_THAT(e.what(),
               Catch::Contains("process " + std::to_string(::getpid())) && Catch::Contains("(prov infra apply)"));
  }
  held->release();
  CHECK(store.lock_infra(std::chrono::milliseconds(0), "prov infra plan") != nullptr);
}
