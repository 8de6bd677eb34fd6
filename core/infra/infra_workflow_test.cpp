#include "core/infra/infra_workflow.hpp"

#include <catch2/catch.hpp>

#include "core/config/toml_file.hpp"

using namespace prov;

namespace {

InfraPlan plan_of(const std::string& text, const std::vector<ManagedServer>& managed = {}) {
  ProvidersNow now;
  now.in_place = [](const std::string&, const std::string& f) { return f == "labels"; };
  for (const auto& m : managed) now.servers[m.provider][m.id] = Datum(DatumRecord{{"id", Datum(m.id)}});
  return make_infra_plan(parse_infra_definition(parse_toml(text, "i.toml"), "i.toml"), managed, "local", now);
}

const Datum* op_named(const Datum& doc, const std::string& id) {
  for (const Datum& op : doc.find("operations")->list())
    if (*op.find("id") == Datum(id)) return &op;
  return nullptr;
}

}  // namespace

TEST_CASE("infra workflow: creates wait for what they depend on, vars go along only with placeholders", "[infra]") {
  InfraWorkflow w = infra_workflow(plan_of("[vars]\nx = 1\n[servers.api]\nports = [\"{{vars.x}}\"]\n"
                                           "[servers.web]\ndepends_on = [\"api\"]\n"),
                                   "apply", {{"x", Datum(int64_t{1})}});
  CHECK(*w.document.find("name") == Datum("infra-apply"));
  CHECK(w.document.find("vars") == nullptr);
  const Datum* web = op_named(w.document, "create-web");
  REQUIRE(web);
  CHECK(*web->find("kind") == Datum("server.create"));
  CHECK(*web->find("depends_on") == Datum(DatumList{Datum("create-api")}));
  CHECK(*web->find("server")->find("name") == Datum("web"));
  CHECK(op_named(w.document, "create-api")->find("depends_on") == nullptr);
  CHECK(*w.pending.find("ops")->find("create-web")->find("name") == Datum("web"));

  InfraWorkflow refs = infra_workflow(plan_of("[vars]\nx = 1\n[servers.api]\n[servers.web]\n"
                                              "command = [\"w\", \"{{servers.api.id}}\"]\n"),
                                      "apply", {{"x", Datum(int64_t{1})}});
  // needs refs: the engine resolves {{ops.create-api.out.id}} from the journal.
  REQUIRE(refs.document.find("vars"));
}

TEST_CASE("infra workflow: a replace deletes first, deletes go dependents first", "[infra]") {
  std::vector<ManagedServer> managed = {
      {"a",
       "local",
       "a-1",
       {},
       Datum(DatumRecord{{"name", Datum("a")}, {"ports", Datum(DatumList{Datum(int64_t{1})})}}),
       Datum()},
      {"b", "local", "b-1", {}, Datum(DatumRecord{{"name", Datum("b")}}), Datum()},
      {"c", "local", "c-1", {"b"}, Datum(DatumRecord{{"name", Datum("c")}}), Datum()}};
  InfraWorkflow w = infra_workflow(plan_of("[servers.a]\nports = [2]\n", managed), "apply", {});
  const Datum* create_a = op_named(w.document, "create-a");
  REQUIRE(create_a);
  CHECK(*create_a->find("depends_on") == Datum(DatumList{Datum("delete-a")}));
  CHECK(*op_named(w.document, "delete-a")->find("server_id") == Datum("a-1"));
  CHECK(*op_named(w.document, "delete-b")->find("depends_on") == Datum(DatumList{Datum("delete-c")}));
  CHECK(op_named(w.document, "delete-c")->find("depends_on") == nullptr);
}
