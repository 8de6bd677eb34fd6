#include "core/providers/server_identity.hpp"

#include <catch2/catch.hpp>

#include "core/providers/provider_contract_test.hpp"

using namespace prov;

namespace {

Server server_with(DatumRecord fields) {
  Server s;
  s.id = "web-1";
  s.name = "web";
  s.fields = std::move(fields);
  return s;
}

ServerSpec spec_named(const std::string& name) {
  ServerSpec s;
  s.name = name;
  return s;
}

}  // namespace

TEST_CASE("spec_changes: unset values are the same, records whatever their order", "[identity]") {
  ServerSpec spec = spec_named("web");
  spec.labels = {{"a", Datum(int64_t{1})}, {"b", Datum("x")}};
  spec.ports = {8080};
  const Server same = server_with({{"plan", Datum("")},
                                   {"labels", Datum(DatumRecord{{"b", Datum("x")}, {"a", Datum(int64_t{1})}})},
                                   {"ports", Datum(DatumList{Datum(int64_t{8080})})},
                                   {"cwd", Datum()},
                                   {"env", Datum(DatumRecord{})}});
  CHECK(spec_changes(spec, same, {"command", "env", "cwd", "ports"}).empty());

  spec.ports = {8081};
  spec.plan = "large";
  const auto changes = spec_changes(spec, same, {"command", "env", "cwd", "ports"});
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].field == "plan");
  CHECK(changes[0].after == Datum("large"));
  CHECK(changes[1].field == "ports");
  CHECK(changes[1].before == Datum(DatumList{Datum(int64_t{8080})}));
  CHECK(describe_changes(changes) == "plan: (unset) → large; ports: [8080] → [8081]");
}

TEST_CASE("spec_changes: a field the spec drops counts as a change", "[identity]") {
  const Server had = server_with({{"ports", Datum(DatumList{Datum(int64_t{8080})})}});
  const auto changes = spec_changes(spec_named("web"), had, {"ports"});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].field == "ports");
  CHECK(changes[0].after.is_null());
}

TEST_CASE("describe_changes names env variables, never their values", "[identity]") {
  const std::vector<FieldChange> c{{"env", Datum(DatumRecord{{"TOKEN", Datum("old-secret")}, {"MODE", Datum("a")}}),
                                    Datum(DatumRecord{{"TOKEN", Datum("new-secret")}, {"MODE", Datum("a")}})}};
  const std::string text = describe_changes(c);
  CHECK(text == "env: TOKEN differs");
  CHECK(text.find("secret") == std::string::npos);
}

TEST_CASE("check_spec_fields refuses a field the provider does not take, with a did-you-mean", "[identity]") {
  testing::MemoryProvider p;  // takes region
  ServerSpec spec = spec_named("web");
  spec.extra = {{"regoin", Datum("eu")}};
  try {
    check_spec_fields(spec, p, "the server spec");
    FAIL("accepted");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::provider::invalid_spec");
    CHECK(std::string(e.what()) ==
          "the server spec has a field `regoin` that provider `memory` does not take; did you mean `region`?");
    CHECK(e.help() == "provider `memory` takes name, plan, labels or region");
  }
  spec.extra = {{"region", Datum("eu")}};
  CHECK_NOTHROW(check_spec_fields(spec, p));
  ServerSpec local_only = spec_named("web");
  local_only.ports = {80};
  CHECK(testing::provider_error_code([&] { check_spec_fields(local_only, p); }) ==
        "provisioning::provider::invalid_spec");
}

TEST_CASE("create_server: created, unchanged, refused naming what differs, replaced", "[identity]") {
  testing::MemoryProvider p;
  ServerSpec spec = spec_named("web");
  spec.extra = {{"region", Datum("eu")}};
  const CreateOutcome a = create_server(p, spec, false);
  CHECK(a.change == "created");
  const CreateOutcome b = create_server(p, spec, false);
  CHECK(b.change == "unchanged");
  CHECK(b.server.id == a.server.id);
  CHECK(p.list().size() == 1);

  ServerSpec moved = spec;
  moved.extra = {{"region", Datum("us")}};
  try {
    create_server(p, moved, false);
    FAIL("created");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::server::exists");
    CHECK(std::string(e.what()).find("region: eu → us") != std::string::npos);
    REQUIRE(e.related().size() == 1);
    CHECK(std::string(e.related()[0].what()) == "region: eu → us");
  }
  CHECK(p.list().size() == 1);
  const CreateOutcome c = create_server(p, moved, true);
  CHECK(c.change == "replaced");
  CHECK(c.removed->id == a.server.id);
  CHECK(c.server.id != a.server.id);
  CHECK(p.list().size() == 1);
}

TEST_CASE("the in-memory provider keeps the identity contract", "[identity]") {
  testing::MemoryProvider p;
  testing::check_identity_contract(p, spec_named("contract"));
}
