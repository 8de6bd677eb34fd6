#include "core/ops/op_kind.hpp"

#include <unistd.h>


#include <catch2/catch.hpp>

#include "core/ops/ops_test_support.hpp"
#include "core/support/error.hpp"

using namespace prov;
using namespace prov::testing;

TEST_CASE("find_kind knows every kind DESIGN.md lists", "[ops]") {
  const std::vector<std::string_view> expected = {"command",    "nu",            "file.write",
                                                  "config.set", "server.create", "server.delete"};
  CHECK(kind_names() == expected);
  for (std::string_view name : expected) {
    const OpKind* kind = find_kind(name);
    REQUIRE(kind);
    CHECK(kind->name() == name);
  }
  CHECK(find_kind("shell") == nullptr);
  CHECK(find_kind("") == nullptr);
}

TEST_CASE("server kinds without providers say that none is available", "[ops]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  OperationSpec create = make_op(
      "server.create", {{"provider", "local"}, {"server", DatumRecord{{"name", "web-1"}}}});
  const OpKind& kind = *find_kind("server.create");
  CHECK_NOTHROW(kind.validate(create));
  CHECK(kind.has_rollback(create));  // a created server is deleted on rollback
  OpResult r = kind.run(create, ctx);
  CHECK_FALSE(r.ok);
  CHECK(r.code == "provisioning::provider::not_available");
  CHECK(r.message.find("`local`") != std::string::npos);
  CHECK(log_text(ctx.log_path).find("failed [provisioning::provider::not_available]") != std::string::npos);

  CHECK_THROWS_AS(kind.validate(make_op("server.create", {{"provider", "local"}})), WorkflowError);
  const OpKind& del = *find_kind("server.delete");
  OperationSpec remove = make_op("server.delete", {{"provider", "local"}, {"server_id", "s-1"}});
  CHECK_NOTHROW(del.validate(remove));
  CHECK(del.run(remove, ctx).code == "provisioning::provider::not_available");
  CHECK_THROWS_AS(del.validate(make_op("server.delete", {{"provider", "local"}})), WorkflowError);
}

TEST_CASE("log lines frame each run and rollback, on lines of their own", "[ops]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  // Output without a final newline still leaves the trailer on a line of its own.
  OperationSpec op = make_op("command", {{"run", DatumList{"printf", "no newline"}},
                                         {"rollback", DatumList{"echo", "undone"}}}, "step-1");
  const OpKind& kind = *find_kind("command");
  REQUIRE(kind.run(op, ctx).ok);
  REQUIRE(kind.rollback(op, Datum(), ctx).ok);
  const std::string log = log_text(ctx.log_path);
  INFO(log);
  CHECK(log.find(" step-1 (command) run\nno newline\n<== ") != std::string::npos);
  CHECK(log.find(" step-1 (command) rollback\nundone\n<== ") != std::string::npos);
  CHECK(log.find("step-1 (command) rollback: ok: exit status 0") != std::string::npos);

  // No log path: nothing is written anywhere, and operations still run.
  ctx.log_path.clear();
  CHECK(kind.run(op, ctx).ok);
}

TEST_CASE("a silent, successful action leaves no log; a silent failure does", "[ops]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const OpKind& kind = *find_kind("command");
  REQUIRE(kind.run(make_op("command", {{"run", DatumList{"true"}}}, "quiet"), ctx).ok);
  CHECK(::access(ctx.log_path.c_str(), F_OK) != 0);

  REQUIRE_FALSE(kind.run(make_op("command", {{"run", DatumList{"false"}}}, "quiet"), ctx).ok);
  const std::string log = log_text(ctx.log_path);
  INFO(log);
  CHECK(log.rfind("==> ", 0) == 0);
  CHECK(log.find(" quiet (command) run\n<== ") != std::string::npos);
  CHECK(log.find("quiet (command) run: failed [provisioning::operation::failed]") != std::string::npos);
}

TEST_CASE("an action's log records each line's stream and attempt; a rollback's lines have none", "[ops]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.attempt = 3;
  OperationSpec op = make_op(
      "command", {{"run", DatumList{"sh", "-c", "echo out; echo err >&2"}}, {"rollback", DatumList{"echo", "undone"}}},
      "step");
  const OpKind& kind = *find_kind("command");
  REQUIRE(kind.run(op, ctx).ok);
  REQUIRE(kind.rollback(op, Datum(), ctx).ok);
  const std::string log = slurp(ctx.log_path);
  INFO(log);
  CHECK(log.rfind(std::string(op_log_magic()), 0) == 0);
  const std::vector<OpLogLine> lines = read_op_log(log);
  REQUIRE(lines.size() == 7);
  auto is = [&](size_t i, std::optional<int> attempt, OpLogStream s) {
    INFO(i);
    CHECK(lines[i].attempt == attempt);
    CHECK(lines[i].stream == s);
    CHECK(lines[i].time.has_value());
  };
  is(0, 3, OpLogStream::prov);
  is(1, 3, OpLogStream::out);
  CHECK(lines[1].text == "out");
  is(2, 3, OpLogStream::err);
  CHECK(lines[2].text == "err");
  is(3, 3, OpLogStream::prov);
  is(4, std::nullopt, OpLogStream::prov);
  CHECK(lines[4].text.find("step (command) rollback") != std::string::npos);
  is(5, std::nullopt, OpLogStream::out);
  CHECK(lines[5].text == "undone");
  is(6, std::nullopt, OpLogStream::prov);
}
