#include "core/infra/infra_refs.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("infra refs: vars and server fields are found, other placeholders left alone", "[infra]") {
  const Datum spec(DatumRecord{
      {"command",
       Datum(DatumList{Datum("run"), Datum("--api=http://h:{{servers.api.ports.0}}/"), Datum("{{vars.x}}")})},
      {"env", Datum(DatumRecord{{"HOME", Datum("{{env.HOME}}")}, {"N", Datum("{{ vars.n }}")}})}});
  auto refs = infra_refs_in(spec);
  REQUIRE(refs.size() == 3);
  CHECK(refs[0].kind == InfraRef::Kind::server);
  CHECK(refs[0].name == "api");
  CHECK(refs[0].path == std::vector<std::string>{"ports", "0"});
  CHECK(refs[1].kind == InfraRef::Kind::var);
  CHECK(refs[1].name == "x");
  CHECK(refs[2].name == "n");
}

TEST_CASE("infra refs: a whole reference keeps its type, one in text becomes text, unknown ones a placeholder",
          "[infra]") {
  const Datum spec(DatumRecord{{"ports", Datum(DatumList{Datum("{{vars.port}}")})},
                               {"url", Datum("http://127.0.0.1:{{vars.port}}/")},
                               {"id", Datum("{{servers.api.id}}")},
                               {"home", Datum("{{env.HOME}}")}});
  auto value = [](const InfraRef& r) -> std::optional<Datum> {
    if (r.kind == InfraRef::Kind::var) return Datum(int64_t{8080});
    return std::nullopt;
  };
  auto later = [](const InfraRef& r) { return "{{ops.create-" + r.name + ".out." + r.path[0] + "}}"; };
  ResolvedRefs r = resolve_infra_refs(spec, value, later);
  CHECK_FALSE(r.known);
  CHECK(*r.value.find("ports") == Datum(DatumList{Datum(int64_t{8080})}));
  CHECK(*r.value.find("url") == Datum("http://127.0.0.1:8080/"));
  CHECK(*r.value.find("id") == Datum("{{ops.create-api.out.id}}"));
  CHECK(*r.value.find("home") == Datum("{{env.HOME}}"));
}

TEST_CASE("infra refs: datum_at follows keys and indexes", "[infra]") {
  const Datum d(DatumRecord{{"ports", Datum(DatumList{Datum(int64_t{1}), Datum(int64_t{2})})}});
  REQUIRE(datum_at(d, {"ports", "1"}));
  CHECK(*datum_at(d, {"ports", "1"}) == Datum(int64_t{2}));
  CHECK(datum_at(d, {"ports", "2"}) == nullptr);
  CHECK(datum_at(d, {"ports", "x"}) == nullptr);
  CHECK(datum_at(d, {"nope"}) == nullptr);
}
