#include "core/ops/server_op.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "core/events/event.hpp"
#include "core/ops/ops_test_support.hpp"
#include "core/providers/provider_contract_test.hpp"
#include "core/support/error.hpp"

using namespace prov;
using namespace prov::testing;


TEST_CASE("server.create creates through the provider, reports the resource, and its rollback deletes it",
          "[ops][server_op]") {
  TempDir dir;
  std::map<std::string, Server> servers;
  std::vector<std::string> opened;
  OpContext ctx = make_context(dir);
  ctx.open_provider = [&](const std::string& name) {
    opened.push_back(name);
    if (name != "memory") throw ProviderError("provisioning::provider::unknown", "no provider called `" + name + "`");
    return std::unique_ptr<Provider>(new MemoryProvider(&servers));
  };
  const OpKind& kind = *find_kind("server.create");
  OperationSpec op = make_op("server.create", {{"provider", "memory"}, {"server", DatumRecord{{"name", "web"}}}});
  CHECK(kind.has_rollback(op));

  OpResult r = kind.run(op, ctx);
  REQUIRE(r.ok);
  CHECK(opened == std::vector<std::string>{"memory"});
  CHECK(servers.count("web-1") == 1);
  CHECK(r.resource_event == event_type::resource_created);
  CHECK(r.resource.find("id")->str() == "web-1");
  CHECK(r.resource.find("provider")->str() == "memory");
  CHECK(r.undo.find("server_id")->str() == "web-1");

  OpResult back = kind.rollback(op, r.undo, ctx);
  REQUIRE(back.ok);
  CHECK(servers.empty());
  CHECK(back.resource_event == event_type::resource_deleted);
  // Rolling back a server that is already gone is not a failure.
  OpResult again = kind.rollback(op, r.undo, ctx);
  CHECK(again.ok);
  CHECK(again.message.find("already gone") != std::string::npos);
}

TEST_CASE("server ops turn provider errors into failed results with the provider's code", "[ops][server_op]") {
  TempDir dir;
  std::map<std::string, Server> servers;
  OpContext ctx = make_context(dir);
  ctx.open_provider = [&](const std::string& name) {
    if (name != "memory") throw ProviderError("provisioning::provider::unknown", "no provider called `" + name + "`");
    return std::unique_ptr<Provider>(new MemoryProvider(&servers));
  };
  OpResult f = find_kind("server.create")->run(
      make_op("server.create", {{"provider", "memory"}, {"server", DatumRecord{{"name", "fail"}}}}), ctx);
  CHECK_FALSE(f.ok);
  CHECK(f.code == "provisioning::provider::failed");
  CHECK(f.message.find("quota exceeded") != std::string::npos);

  OpResult u = find_kind("server.create")->run(
      make_op("server.create", {{"provider", "nope"}, {"server", DatumRecord{{"name", "web"}}}}), ctx);
  CHECK(u.code == "provisioning::provider::unknown");

  OpResult d = find_kind("server.delete")->run(make_op("server.delete", {{"provider", "memory"}, {"server_id", "x"}}), ctx);
  CHECK(d.code == "provisioning::provider::not_found");

  servers["db-1"] = Server{"db-1", "db", "memory", server_state::running, {}, {}};
  OpResult ok = find_kind("server.delete")->run(make_op("server.delete", {{"provider", "memory"}, {"server_id", "db-1"}}), ctx);
  CHECK(ok.ok);
  CHECK(ok.resource_event == event_type::resource_deleted);
  CHECK(servers.empty());
}

TEST_CASE("server.create validates its ServerSpec before anything runs", "[ops][server_op]") {
  const OpKind& kind = *find_kind("server.create");
  CHECK_THROWS_AS(kind.validate(make_op("server.create", {{"provider", "memory"}, {"server", "web"}})), WorkflowError);
  CHECK_THROWS_AS(kind.validate(make_op("server.create", {{"provider", "memory"}, {"server", DatumRecord{}}})),
                  WorkflowError);
  CHECK_THROWS_AS(kind.validate(make_op("server.create",
                                        {{"provider", "memory"},
                                         {"server", DatumRecord{{"name", "w"}, {"ports", DatumList{Datum("http")}}}}})),
                  WorkflowError);
  CHECK_NOTHROW(kind.validate(make_op("server.create", {{"provider", "memory"}, {"server", DatumRecord{{"name", "w"}}}})));
}

TEST_CASE("server.create of a name that exists: unchanged leaves it to its owner, another spec fails unless replace",
          "[ops][server_op]") {
  TempDir dir;
  std::map<std::string, Server> servers;
  OpContext ctx = make_context(dir);
  ctx.open_provider = [&](const std::string&) { return std::unique_ptr<Provider>(new MemoryProvider(&servers)); };
  const OpKind& kind = *find_kind("server.create");
  auto op_with = [](Datum server, std::optional<bool> replace = std::nullopt) {
    DatumRecord f{{"provider", "memory"}, {"server", std::move(server)}};
    if (replace) f.emplace_back("replace", Datum(*replace));
    return make_op("server.create", f);
  };
  const Datum eu = DatumRecord{{"name", "web"}, {"region", "eu"}};
  REQUIRE(kind.run(op_with(eu), ctx).ok);
  REQUIRE(servers.size() == 1);

  OpResult same = kind.run(op_with(eu), ctx);
  REQUIRE(same.ok);
  CHECK(same.message.find("unchanged") != std::string::npos);
  CHECK(same.resource_event.empty());
  CHECK(same.undo.find("server_id") == nullptr);
  REQUIRE(kind.rollback(op_with(eu), same.undo, ctx).ok);
  CHECK(servers.size() == 1);  // the rollback left the server it did not make

  const Datum us = DatumRecord{{"name", "web"}, {"region", "us"}};
  OpResult refused = kind.run(op_with(us), ctx);
  CHECK_FALSE(refused.ok);
  CHECK(refused.code == "provisioning::server::exists");
  CHECK(refused.message.find("region: eu → us") != std::string::npos);

  OpResult replaced = kind.run(op_with(us, true), ctx);
  REQUIRE(replaced.ok);
  CHECK(replaced.resource_event == event_type::resource_created);
  CHECK(servers.size() == 1);
  CHECK(servers.begin()->second.fields.back().second == Datum("us"));

  CHECK_THROWS_WITH(kind.validate(make_op("server.create", {{"server", DatumRecord{{"name", "w"}}}, {"replace", "yes"}})),
                    Catch::Contains("replace"));
}
