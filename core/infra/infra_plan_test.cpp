#include "core/infra/infra_plan.hpp"

#include <catch2/catch.hpp>

#include "core/config/toml_file.hpp"
#include "core/support/error.hpp"

using namespace prov;

namespace {

InfraDefinition def_of(const std::string& text) { return parse_infra_definition(parse_toml(text, "i.toml"), "i.toml"); }

const char* kThree = R"(
[vars]
port = 8080
[servers.api]
command = ["api", "{{vars.port}}"]
ports = ["{{vars.port}}"]
labels = { tier = "api" }
[servers.web]
command = ["web", "http://127.0.0.1:{{servers.api.ports.0}}/", "{{servers.api.id}}"]
)";

ProvidersNow reporting(const std::vector<std::string>& ids, const std::string& state = "running") {
  ProvidersNow now;
  auto& local = now.servers["local"];
  for (const auto& id : ids) local[id] = Datum(DatumRecord{{"id", Datum(id)}, {"state", Datum(state)}});
  now.in_place = [](const std::string&, const std::string& field) { return field == "labels"; };
  return now;
}

/// What an apply of `plan` records: each planned server managed with its spec.
std::vector<ManagedServer> applied(const InfraPlan& plan) {
  std::vector<ManagedServer> out;
  for (const auto& e : plan.entries)
    out.push_back(
        {e.name, e.provider, e.name + "-1", e.depends_on, e.spec, Datum(DatumRecord{{"id", Datum(e.name + "-1")}})});
  return out;
}

}  // namespace

TEST_CASE("infra plan: everything new is created, references resolved as far as known", "[infra]") {
  InfraPlan plan = make_infra_plan(def_of(kThree), {}, "local", reporting({}));
  REQUIRE(plan.entries.size() == 2);
  CHECK(plan.entries[0].action == "create");
  CHECK(plan.entries[0].spec_known);
  CHECK(*plan.entries[0].spec.find("ports") == Datum(DatumList{Datum(int64_t{8080})}));
  const InfraPlanEntry& web = plan.entries[1];
  CHECK(web.action == "create");
  CHECK(web.provider == "local");
  CHECK_FALSE(web.spec_known);  // api's id is only known once it is created
  CHECK(*web.spec.find("command") ==
        Datum(DatumList{Datum("web"), Datum("http://127.0.0.1:8080/"), Datum("{{ops.create-api.out.id}}")}));
  CHECK(plan.needs_workflow());
}

TEST_CASE("infra plan: after an apply every server is noop, a server's id coming from its record", "[infra]") {
  InfraPlan first = make_infra_plan(def_of(kThree), {}, "local", reporting({}));
  std::vector<ManagedServer> managed = applied(first);
  managed[1].spec.set("command", Datum(DatumList{Datum("web"), Datum("http://127.0.0.1:8080/"), Datum("api-1")}));
  InfraPlan again = make_infra_plan(def_of(kThree), managed, "local", reporting({"api-1", "web-1"}));
  REQUIRE(again.entries.size() == 2);
  CHECK(again.nothing_to_do());
  CHECK_FALSE(again.needs_workflow());
}

TEST_CASE("infra plan: labels update in place, a port forces a replace, a dropped server is deleted", "[infra]") {
  const char* v1 =
      "[servers.a]\nports = [1000]\nlabels = { v = \"1\" }\n[servers.b]\nlabels = { v = \"1\" }\n"
      "[servers.c]\ndepends_on = [\"b\"]\n";
  InfraPlan first = make_infra_plan(def_of(v1), {}, "local", reporting({}));
  const auto managed = applied(first);
  const char* v2 = "[servers.a]\nports = [1001]\nlabels = { v = \"1\" }\n[servers.b]\nlabels = { v = \"2\" }\n";
  InfraPlan plan = make_infra_plan(def_of(v2), managed, "local", reporting({"a-1", "b-1", "c-1"}));
  REQUIRE(plan.entries.size() == 3);
  CHECK(plan.entries[0].action == "replace");
  CHECK(plan.entries[0].reason == "ports cannot change in place");
  REQUIRE(plan.entries[0].changes.size() == 1);
  CHECK(plan.entries[0].changes[0].field == "ports");
  CHECK(plan.entries[0].changes[0].before == Datum(DatumList{Datum(int64_t{1000})}));
  CHECK(plan.entries[1].action == "update");
  CHECK(plan.entries[1].changes[0].field == "labels");
  CHECK(plan.entries[2].action == "delete");
  CHECK(plan.entries[2].name == "c");
  CHECK(plan.entries[2].id == "c-1");
}

TEST_CASE("infra plan: a server deleted outside is created again, one that exited replaced", "[infra]") {
  const char* def = "[servers.a]\n[servers.b]\n";
  const auto managed = applied(make_infra_plan(def_of(def), {}, "local", reporting({})));
  InfraPlan gone = make_infra_plan(def_of(def), managed, "local", reporting({"b-1"}));
  CHECK(gone.entries[0].action == "create");
  CHECK_THAT(gone.entries[0].reason, Catch::Contains("deleted outside"));
  CHECK(gone.entries[1].action == "noop");
  InfraPlan exited = make_infra_plan(def_of(def), managed, "local", reporting({"a-1", "b-1"}, "exited"));
  CHECK(exited.entries[0].action == "replace");
  CHECK_THAT(exited.entries[0].reason, Catch::Contains("exited"));
}

TEST_CASE("infra plan: destroy goes dependents first", "[infra]") {
  const char* def = "[servers.db]\n[servers.api]\ndepends_on = [\"db\"]\n[servers.web]\ndepends_on = [\"api\"]\n";
  const auto managed = applied(make_infra_plan(def_of(def), {}, "local", reporting({})));
  InfraPlan all = make_destroy_plan(managed, {});
  REQUIRE(all.entries.size() == 3);
  CHECK(all.entries[0].name == "web");
  CHECK(all.entries[1].name == "api");
  CHECK(all.entries[2].name == "db");
  InfraPlan only = make_destroy_plan(managed, {"db"});
  REQUIRE(only.entries.size() == 1);
  CHECK(only.entries[0].action == "delete");
}
