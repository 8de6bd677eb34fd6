#include "core/providers/provider.hpp"

#include <catch2/catch.hpp>

#include <map>

#include "core/providers/provider_contract_test.hpp"

using namespace prov;
using prov::testing::provider_error_code;

namespace {

DatumList strings(std::initializer_list<const char*> items) {
  DatumList l;
  for (const char* s : items) l.emplace_back(s);
  return l;
}

std::string spec_code(const Datum& d) {
  return provider_error_code([&] { ServerSpec::from_datum(d); });
}

std::string spec_message(const Datum& d) {
  try {
    ServerSpec::from_datum(d, "the input");
  } catch (const ProviderError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("ServerSpec reads every field of a record and keeps the rest in order", "[provider]") {
  DatumRecord env{{"PORT", Datum(8080)}, {"MODE", Datum("dev")}, {"DEBUG", Datum(true)}};
  Datum d(DatumRecord{{"zone", Datum("eu")},
                      {"name", Datum("web")},
                      {"plan", Datum("small")},
                      {"labels", Datum(DatumRecord{{"team", Datum("a")}})},
                      {"command", Datum(strings({"python3", "-m", "http.server"}))},
                      {"env", Datum(env)},
                      {"cwd", Datum("srv")},
                      {"ports", Datum(DatumList{Datum(8080), Datum(9090)})},
                      {"size", Datum(3)}});
  ServerSpec s = ServerSpec::from_datum(d);
  CHECK(s.name == "web");
  CHECK(s.plan == "small");
  CHECK(s.labels == DatumRecord{{"team", Datum("a")}});
  CHECK(s.command == std::vector<std::string>{"python3", "-m", "http.server"});
  CHECK(s.env == Environment{{"PORT", "8080"}, {"MODE", "dev"}, {"DEBUG", "true"}});
  CHECK(s.cwd == "srv");
  CHECK(s.ports == std::vector<int64_t>{8080, 9090});
  CHECK(s.extra == DatumRecord{{"zone", Datum("eu")}, {"size", Datum(3)}});

  Datum back = s.to_datum();
  REQUIRE(back.is_record());
  std::vector<std::string> keys;
  for (const auto& kv : back.record()) keys.push_back(kv.first);
  CHECK(keys == std::vector<std::string>{"name", "plan", "labels", "command", "env", "cwd", "ports", "zone", "size"});
  CHECK(*back.find("env") == Datum(DatumRecord{{"DEBUG", Datum("true")}, {"MODE", Datum("dev")}, {"PORT", Datum("8080")}}));
  ServerSpec again = ServerSpec::from_datum(back);
  CHECK(again.to_datum() == back);
}

TEST_CASE("ServerSpec with only a name writes name, plan and labels", "[provider]") {
  ServerSpec s = ServerSpec::from_datum(Datum(DatumRecord{{"name", Datum("db")}}));
  CHECK(s.name == "db");
  CHECK(s.plan.empty());
  CHECK(s.command.empty());
  CHECK(s.to_datum() == Datum(DatumRecord{{"name", Datum("db")}, {"plan", Datum()}, {"labels", Datum(DatumRecord{})}}));
  // Null optional fields are as good as absent.
  ServerSpec n = ServerSpec::from_datum(Datum(DatumRecord{
      {"name", Datum("db")}, {"plan", Datum()}, {"command", Datum()}, {"ports", Datum()}, {"env", Datum()}}));
  CHECK(n.to_datum() == s.to_datum());
}

TEST_CASE("ServerSpec refuses unusable records naming the field", "[provider]") {
  const std::string invalid = "provisioning::provider::invalid_spec";
  CHECK(spec_code(Datum("web")) == invalid);
  CHECK(spec_message(Datum(3)) == "the input must be a record, not int");
  CHECK(spec_code(Datum(DatumRecord{})) == invalid);
  CHECK(spec_message(Datum(DatumRecord{{"plan", Datum("x")}})) == "the input: `name` is required");
  CHECK(spec_code(Datum(DatumRecord{{"name", Datum("")}})) == invalid);
  CHECK(spec_code(Datum(DatumRecord{{"name", Datum(1)}})) == invalid);
  const Datum named("web");
  auto with = [&](const char* key, Datum v) { return Datum(DatumRecord{{"name", named}, {key, std::move(v)}}); };
  CHECK(spec_message(with("command", Datum("ls -l"))) == "the input: `command` must be a list of strings, not string");
  CHECK(spec_message(with("command", Datum(DatumList{Datum("ls"), Datum(DatumRecord{})}))) ==
        "the input: `command` must be a list of strings; item 1 is record");
  CHECK(spec_message(with("labels", Datum(DatumList{}))) == "the input: `labels` must be a record, not list");
  CHECK(spec_message(with("env", Datum(DatumRecord{{"A", Datum(DatumList{})}}))) ==
        "the input: `env.A` must be a string, not list");
  CHECK(spec_code(with("env", Datum("A=1"))) == invalid);
  CHECK(spec_code(with("cwd", Datum(1))) == invalid);
  CHECK(spec_message(with("ports", Datum(DatumList{Datum(0)}))) == "the input: `ports` holds 0, outside 1..65535");
  CHECK(spec_code(with("ports", Datum(DatumList{Datum(65536)}))) == invalid);
  CHECK(spec_code(with("ports", Datum(DatumList{Datum("80")}))) == invalid);
  CHECK(spec_code(with("ports", Datum(80))) == invalid);
  CHECK(spec_code(with("ports", Datum(DatumList{Datum(65535), Datum(1)}))).empty());
}

TEST_CASE("Server reads a provider's record and writes it back in order", "[provider]") {
  Datum d(DatumRecord{{"state", Datum("running")},
                      {"ip", Datum("10.0.0.2")},
                      {"id", Datum("srv-1")},
                      {"name", Datum("web")},
                      {"created", Datum(DateTime{"2026-05-01T10:00:00+00:00"})},
                      {"cores", Datum(2)}});
  Server s = Server::from_datum(d, "cloud");
  CHECK(s.id == "srv-1");
  CHECK(s.name == "web");
  CHECK(s.provider == "cloud");
  CHECK(s.state == "running");
  CHECK(s.created == DateTime{"2026-05-01T10:00:00+00:00"});
  CHECK(
      s.fields ==
      DatumRecord{{"plan", Datum()}, {"labels", Datum(DatumRecord{})}, {"ip", Datum("10.0.0.2")}, {"cores", Datum(2)}});
  CHECK(s.to_datum() == Datum(DatumRecord{{"id", Datum("srv-1")},
                                          {"name", Datum("web")},
                                          {"provider", Datum("cloud")},
                                          {"state", Datum("running")},
                                          {"created", Datum(DateTime{"2026-05-01T10:00:00+00:00"})},
                                          {"plan", Datum()},
                                          {"labels", Datum(DatumRecord{})},
                                          {"ip", Datum("10.0.0.2")},
                                          {"cores", Datum(2)}}));
  CHECK(Server::from_datum(s.to_datum(), "other").to_datum() == s.to_datum());
}

TEST_CASE("Server takes what came through JSON and fills in defaults", "[provider]") {
  Server s = Server::from_datum(Datum(DatumRecord{{"id", Datum(42)}, {"created", Datum("2026-05-01T10:00:00Z")},
                                                  {"provider", Datum("named")}}),
                                "cloud");
  CHECK(s.id == "42");
  CHECK(s.provider == "named");
  CHECK(s.state == server_state::unknown);
  CHECK(s.created.rfc3339 == "2026-05-01T10:00:00Z");
  Server bare = Server::from_datum(Datum(DatumRecord{{"id", Datum("x")}}), "cloud");
  CHECK(bare.to_datum() == Datum(DatumRecord{{"id", Datum("x")},
                                             {"name", Datum("")},
                                             {"provider", Datum("cloud")},
                                             {"state", Datum("unknown")},
                                             {"created", Datum()},
                                             {"plan", Datum()},
                                             {"labels", Datum(DatumRecord{})}}));
  // What the provider wrote stays where it wrote it.
  Server labelled = Server::from_datum(
      Datum(DatumRecord{{"id", Datum("x")}, {"labels", Datum(DatumRecord{{"a", Datum("b")}})}, {"plan", Datum("s")}}),
      "cloud");
  CHECK(labelled.fields == DatumRecord{{"labels", Datum(DatumRecord{{"a", Datum("b")}})}, {"plan", Datum("s")}});
}

TEST_CASE("Server refuses records that break the contract", "[provider]") {
  const std::string bad = "provisioning::provider::bad_response";
  auto code = [](const Datum& d) { return provider_error_code([&] { Server::from_datum(d, "cloud"); }); };
  CHECK(code(Datum("srv-1")) == bad);
  CHECK(code(Datum(DatumRecord{{"name", Datum("web")}})) == bad);
  CHECK(code(Datum(DatumRecord{{"id", Datum("")}})) == bad);
  CHECK(code(Datum(DatumRecord{{"id", Datum(DatumList{})}})) == bad);
  CHECK(code(Datum(DatumRecord{{"id", Datum("a")}, {"state", Datum(1)}})) == bad);
  CHECK(code(Datum(DatumRecord{{"id", Datum("a")}, {"created", Datum(5)}})) == bad);
  CHECK(code(Datum(DatumRecord{{"id", Datum("a")}, {"name", Datum(true)}})) == bad);
  try {
    Server::from_datum(Datum(DatumRecord{{"name", Datum("web")}}), "cloud");
    FAIL("no error");
  } catch (const ProviderError& e) {
    CHECK(std::string(e.what()) == "provider `cloud` returned a server whose `id` is missing");
  }
}

TEST_CASE("the contract suite passes a provider that keeps it", "[provider]") {
  ServerSpec spec;
  spec.name = "web";
  prov::testing::check_provider_contract([] { return std::make_unique<prov::testing::MemoryProvider>(); }, spec);
}

TEST_CASE("ServerSpec command items that are numbers or bools count as their text", "[provider]") {
  ServerSpec s = ServerSpec::from_datum(
      Datum(DatumRecord{{"name", Datum("w")}, {"command", Datum(DatumList{Datum("sleep"), Datum(int64_t{600})})}}));
  CHECK(s.command == std::vector<std::string>{"sleep", "600"});
}

TEST_CASE("RestartPolicy reads a policy name or a record, and refuses the rest naming the field", "[provider]") {
  const RestartPolicy shorthand = RestartPolicy::from_datum(Datum("on-failure"), "spec");
  CHECK(shorthand.policy == "on-failure");
  CHECK(shorthand.max == 5);
  CHECK(shorthand.backoff == Duration{1'000'000'000});
  const RestartPolicy r = RestartPolicy::from_datum(
      Datum(DatumRecord{{"policy", Datum("always")}, {"max", Datum(int64_t{2})}, {"backoff", Datum("250ms")}}), "spec");
  CHECK(r.policy == "always");
  CHECK(r.max == 2);
  CHECK(r.backoff == Duration{250'000'000});
  CHECK(RestartPolicy::from_datum(r.to_datum(), "spec") == r);

  auto problem = [](Datum d) {
    try {
      RestartPolicy::from_datum(d, "the server spec");
    } catch (const ProviderError& e) {
      CHECK(e.code() == "provisioning::provider::invalid_spec");
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(problem(Datum("sometimes")).find("`restart` must be \"no\", \"on-failure\" or \"always\"") !=
        std::string::npos);
  CHECK(problem(Datum(DatumRecord{{"max", Datum(int64_t{-1})}})).find("restart.max") != std::string::npos);
  CHECK(problem(Datum(DatumRecord{{"backoff", Datum("soon")}})).find("restart.backoff") != std::string::npos);
  CHECK(problem(Datum(DatumRecord{{"maxx", Datum(int64_t{1})}})).find("did you mean `max`") != std::string::npos);
  CHECK(problem(Datum(int64_t{3})).find("not an int") != std::string::npos);
}

TEST_CASE("RestartPolicy: which exits restart, and the backoff doubles up to a minute", "[provider]") {
  RestartPolicy r;
  CHECK_FALSE(r.wants_restart(1, 0));  // policy no
  r.policy = "on-failure";
  r.max = 2;
  CHECK(r.wants_restart(1, 0));
  CHECK(r.wants_restart(137, 1));
  CHECK_FALSE(r.wants_restart(0, 0));
  CHECK_FALSE(r.wants_restart(1, 2));
  r.policy = "always";
  CHECK(r.wants_restart(0, 1));
  CHECK(r.delay(1) == Duration{1'000'000'000});
  CHECK(r.delay(3) == Duration{4'000'000'000});
  CHECK(r.delay(40) == Duration{60'000'000'000});
}

TEST_CASE("a ServerSpec keeps its restart policy and names the fields it sets", "[provider]") {
  const ServerSpec s = ServerSpec::from_datum(Datum(DatumRecord{{"name", Datum("w")},
                                                                {"restart", Datum("on-failure")},
                                                                {"ports", Datum(DatumList{Datum(int64_t{80})})},
                                                                {"zone", Datum("a")}}));
  REQUIRE(s.restart);
  CHECK(s.restart->policy == "on-failure");
  CHECK(s.other_fields() == std::vector<std::string>{"ports", "restart", "zone"});
  CHECK(*s.to_datum().find("restart") == s.restart->to_datum());
}
