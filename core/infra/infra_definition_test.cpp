#include "core/infra/infra_definition.hpp"

#include <catch2/catch.hpp>

#include "core/config/toml_file.hpp"
#include "core/support/error.hpp"

using namespace prov;

namespace {

Datum toml(const std::string& text) { return parse_toml(text, "infra.toml"); }

/// The codes and messages of every problem parse_infra_definition reports for `doc`.
std::vector<std::pair<std::string, std::string>> problems(const Datum& doc) {
  try {
    parse_infra_definition(doc, "infra.toml");
  } catch (const Error& e) {
    std::vector<std::pair<std::string, std::string>> out{{e.code(), e.what()}};
    for (const auto& r : e.related()) out.emplace_back(r.code(), r.what());
    out.front().second += " | " + e.help();
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("infra definition: servers come dependencies first, references add dependencies", "[infra]") {
  InfraDefinition def = parse_infra_definition(toml(R"(
[vars]
port = 8080
[servers.web]
command = ["web", "--api", "http://127.0.0.1:{{servers.api.ports.0}}"]
depends_on = ["db"]
[servers.api]
ports = ["{{vars.port}}"]
provider = "folder"
[servers.db]
labels = { tier = "data" }
)"),
                                               "infra.toml");
  REQUIRE(def.servers.size() == 3);
  CHECK(def.servers[2].name == "web");
  CHECK(def.servers[2].depends_on == std::vector<std::string>{"db", "api"});
  const InfraServer* api = def.find("api");
  REQUIRE(api);
  CHECK(api->provider == "folder");
  CHECK(*api->spec.find("name") == Datum("api"));
  CHECK(api->spec.find("provider") == nullptr);
  CHECK(def.vars.front().first == "port");
}

TEST_CASE("infra definition: every bad field is reported at once, naming the file and the field", "[infra]") {
  auto found = problems(toml(R"(
[servers.api]
prots = [1]
labels = "x"
depends_on = ["dbb"]
command = ["{{vars.nope}}"]
[servers.db]
[extra]
)"));
  REQUIRE(found.size() == 5);
  CHECK(found[0].first == "provisioning::infra::unknown_field");  // [extra]
  CHECK(found[1].first == "provisioning::infra::unknown_field");
  CHECK_THAT(found[1].second,
             Catch::Contains("infra.toml") && Catch::Contains("servers.api") && Catch::Contains("`prots`"));
  CHECK(found[2].first == "provisioning::infra::wrong_type");
  CHECK_THAT(found[2].second, Catch::Contains("servers.api.labels") && Catch::Contains("a record"));
  CHECK(found[3].first == "provisioning::infra::unknown_server");
  CHECK_THAT(found[3].second, Catch::Contains("dbb"));
  CHECK(found[4].first == "provisioning::infra::unknown_var");
}

TEST_CASE("infra definition: a misspelled field suggests the right one", "[infra]") {
  auto found = problems(toml("[servers.api]\nprots = [1]\n"));
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].second, Catch::Contains("did you mean ports?"));
}

TEST_CASE("infra definition: a circle of dependencies is named", "[infra]") {
  auto found = problems(toml(R"(
[servers.a]
depends_on = ["b"]
[servers.b]
command = ["x", "{{servers.a.ports.0}}"]
)"));
  REQUIRE(found.size() == 1);
  CHECK(found[0].first == "provisioning::infra::cycle");
  CHECK_THAT(found[0].second, Catch::Contains("a -> b -> a") || Catch::Contains("b -> a -> b"));
}

TEST_CASE("infra definition: bad names and shapes", "[infra]") {
  CHECK(problems(toml("[servers.\"a b\"]\n")).front().first == "provisioning::infra::bad_name");
  CHECK(problems(Datum("x")).front().first == "provisioning::infra::wrong_type");
  CHECK(problems(toml("servers = 3\n")).front().first == "provisioning::infra::wrong_type");
  CHECK(problems(toml("[servers.a]\nports = [[1]]\n")).front().first == "provisioning::infra::wrong_type");
}
