#include "core/infra/apply_record.hpp"

#include <catch2/catch.hpp>

#include "core/state/file_store.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

Event resource_event(const char* type, const std::string& op, const std::string& id) {
  Event e;
  e.time = now_utc();
  e.type = type;
  e.operation = op;
  e.resource = Datum(DatumRecord{{"provider", Datum("local")}, {"type", Datum("server")}, {"id", Datum(id)}});
  return e;
}

Datum pending_of(std::initializer_list<std::pair<std::string, Datum>> ops) {
  DatumRecord r;
  for (const auto& [op, spec] : ops)
    r.emplace_back(op, Datum(DatumRecord{{"name", Datum(op.substr(7))},
                                         {"provider", Datum("local")},
                                         {"depends_on", Datum(DatumList{})},
                                         {"spec", spec}}));
  return Datum(DatumRecord{{"kind", Datum("apply")}, {"ops", Datum(std::move(r))}});
}

}  // namespace

TEST_CASE("apply record: created servers are recorded with what the run resolved, rolled back ones forgotten",
          "[infra]") {
  TempDir ws("prov-infra");
  FileStore store(ws / ".provisioning", ws.path());
  const Datum pending = pending_of(
      {{"create-api", Datum(DatumRecord{{"name", Datum("api")}})},
       {"create-web",
        Datum(DatumRecord{{"name", Datum("web")}, {"command", Datum(DatumList{Datum("{{ops.create-api.out.id}}")})}})},
       {"create-job", Datum(DatumRecord{{"name", Datum("job")}})}});
  auto look = [](const std::string&, const std::string& id) { return Datum(DatumRecord{{"id", Datum(id)}}); };
  auto touched = record_infra_results(store, pending,
                                      {resource_event(event_type::resource_created, "create-api", "api-1"),
                                       resource_event(event_type::resource_created, "create-web", "web-1"),
                                       resource_event(event_type::resource_created, "create-job", "job-1"),
                                       resource_event(event_type::resource_deleted, "create-job", "job-1")},
                                      look);
  CHECK(touched == std::vector<std::string>{"api", "web", "job", "job"});
  auto managed = store.managed_servers();
  REQUIRE(managed.size() == 2);
  CHECK(managed[0].name == "api");
  CHECK(managed[0].last == Datum(DatumRecord{{"id", Datum("api-1")}}));
  CHECK(managed[1].name == "web");
  CHECK(*managed[1].spec.find("command") == Datum(DatumList{Datum("api-1")}));
}

TEST_CASE("apply record: with no pending apply there is nothing to settle, and the lock is free", "[infra]") {
  TempDir ws("prov-infra");
  FileStore store(ws / ".provisioning", ws.path());
  CHECK(settle_pending_apply(store, nullptr) == PendingApply::none);
  auto lock = acquire_infra(store, std::chrono::milliseconds(0), "test", nullptr);
  CHECK(lock != nullptr);
}
