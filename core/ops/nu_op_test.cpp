#include "core/ops/nu_op.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/ops/ops_test_support.hpp"

using namespace prov;
using namespace prov::testing;

namespace {

/// The Nu binary the project pins; a test that needs it fails without it (tools/setup.sh
/// installs it), never passes unseen.
std::string nu_binary() {
  const std::string nu = std::string(PROV_SOURCE_DIR) + "/node_modules/nushell/bin/nu";
  if (::access(nu.c_str(), X_OK) != 0) FAIL("no Nu binary at " << nu << " (run tools/setup.sh)");
  return nu;
}

}  // namespace

TEST_CASE("nu_input_nuon writes NUON that keeps every type", "[ops][nu]") {
  CHECK(nu_input_nuon(Datum()) == "null");
  CHECK(nu_input_nuon(DatumRecord{{"b", int64_t{1}}, {"a b", DatumList{true, 1.5, 2.0, "x\"y\\"}}}) ==
        R"({"b": 1, "a b": [true, 1.5, 2.0, "x\"y\\"]})");
  CHECK(nu_input_nuon(Duration{1'500'000'000}) == "1500000000ns");
  CHECK(nu_input_nuon(DateTime{"2024-01-02T03:04:05+00:00"}) == "2024-01-02T03:04:05+00:00");
  CHECK(nu_input_nuon(std::string("bad \xff byte\n\x01")) == "\"bad \xef\xbf\xbd byte\\n\\u{01}\"");
}

TEST_CASE("nu runs code with the input as data, never as code", "[ops][nu]") {
  const std::string nu = nu_binary();
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.nu_path = nu;
  const std::string marker = dir / "marker";
  const std::string hostile = "it's \"quoted\"; touch " + marker + " $(touch " + marker +
                              ") `touch " + marker + "` ' \" ) } ]\nsecond line";
  OperationSpec op = make_op(
      "nu", {{"code", "let input = $in; $input.text | save out.txt; "
                      "$input.nested.list | get 1 | into string | save n.txt; "
                      "$input.wait | describe | save d.txt; $input.at | describe | save t.txt"},
             {"input", DatumRecord{{"text", hostile},
                                   {"nested", DatumRecord{{"list", DatumList{int64_t{1}, int64_t{42}}}}},
                                   {"wait", Duration{5'000'000'000}},
                                   {"at", DateTime{"2024-01-02T03:04:05+00:00"}}}}});
  OpResult r = run_op(op, ctx);
  INFO(log_text(ctx.log_path));
  REQUIRE(r.ok);
  CHECK(r.exit_code == 0);
  CHECK(slurp(dir / "ws/out.txt") == hostile);
  CHECK(slurp(dir / "ws/n.txt") == "42");
  CHECK(slurp(dir / "ws/d.txt") == "duration");
  CHECK(slurp(dir / "ws/t.txt") == "datetime");
  CHECK(::access(marker.c_str(), F_OK) != 0);
}

TEST_CASE("nu reports failing code and passes env and cwd", "[ops][nu]") {
  const std::string nu = nu_binary();
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.nu_path = nu;
  dir.mkdir("ws/sub");

  OpResult exit3 = run_op(make_op("nu", {{"code", "exit 3"}}), ctx);
  CHECK_FALSE(exit3.ok);
  CHECK(exit3.exit_code == 3);
  CHECK(exit3.code == "provisioning::operation::failed");

  OpResult error = run_op(make_op("nu", {{"code", "error make {msg: 'boom from nu'}"}}), ctx);
  CHECK_FALSE(error.ok);
  CHECK(log_text(ctx.log_path).find("boom from nu") != std::string::npos);

  OpResult env = run_op(make_op("nu", {{"code", "$'($env.GREETING) (pwd | path basename)' | save here.txt"},
                                       {"env", DatumRecord{{"GREETING", "hello"}}},
                                       {"cwd", "sub"}}),
                        ctx);
  REQUIRE(env.ok);
  CHECK(slurp(dir / "ws/sub/here.txt") == "hello sub");

  // No input: the code reads null.
  REQUIRE(run_op(make_op("nu", {{"code", "$in | describe | save none.txt"}}), ctx).ok);
  CHECK(slurp(dir / "ws/none.txt") == "nothing");
}

TEST_CASE("nu rollback runs the rollback code with the same input", "[ops][nu]") {
  const std::string nu = nu_binary();
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.nu_path = nu;
  const OpKind& kind = *find_kind("nu");
  OperationSpec op = make_op("nu", {{"code", "$in.name | save made.txt"},
                                    {"input", DatumRecord{{"name", "web-1"}}},
                                    {"rollback", "$in | get name | save undone.txt"}});
  CHECK(kind.has_rollback(op));
  REQUIRE(kind.run(op, ctx).ok);
  REQUIRE(kind.rollback(op, Datum(), ctx).ok);
  CHECK(slurp(dir / "ws/made.txt") == "web-1");
  CHECK(slurp(dir / "ws/undone.txt") == "web-1");
}

TEST_CASE("nu without a Nu binary, or without code, fails cleanly", "[ops][nu]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.nu_path = dir / "no-nu-here";
  OpResult r = run_op(make_op("nu", {{"code", "1"}}), ctx);
  CHECK_FALSE(r.ok);
  CHECK(r.code == "provisioning::process::spawn");

  CHECK(run_op(make_op("nu", {}), ctx).code == "provisioning::workflow::missing_field");
  CHECK(run_op(make_op("nu", {{"code", DatumList{"ls"}}}), ctx).code == "provisioning::workflow::wrong_type");
  CHECK_FALSE(find_kind("nu")->has_rollback(make_op("nu", {{"code", "1"}})));
}
