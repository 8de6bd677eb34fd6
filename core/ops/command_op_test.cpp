#include "core/ops/command_op.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "core/ops/ops_test_support.hpp"
#include "core/support/error.hpp"
#include "core/support/process_test_support.hpp"

using namespace prov;
using namespace prov::testing;
using namespace std::chrono_literals;

namespace {

DatumList argv(std::initializer_list<const char*> items) {
  DatumList l;
  for (const char* i : items) l.emplace_back(i);
  return l;
}

/// The number printed after `tag` in `text`; 0 when absent.
pid_t pid_after(const std::string& text, const std::string& tag) {
  const size_t at = text.find(tag);
  return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + tag.size());
}

}  // namespace

TEST_CASE("command runs an argv and reports its exit status", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  OpResult ok = run_op(make_op("command", {{"run", argv({"true"})}}), ctx);
  CHECK(ok.ok);
  CHECK(ok.exit_code == 0);
  CHECK(ok.code.empty());
  CHECK(ok.undo.is_null());
  CHECK(ok.duration.nanos > 0);

  OpResult bad = run_op(make_op("command", {{"run", argv({"sh", "-c", "exit 3"})}}), ctx);
  CHECK_FALSE(bad.ok);
  CHECK(bad.exit_code == 3);
  CHECK(bad.code == "provisioning::operation::failed");
  CHECK(bad.message.find("3") != std::string::npos);
  CHECK_FALSE(bad.timed_out);
}

TEST_CASE("command gives the process its env over the base, its cwd and its stdin", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  dir.mkdir("ws/sub dir");
  ctx.base_env = std::make_shared<const ChildEnv>(
      Environment{{"PATH", std::getenv("PATH")}, {"BASE", "from base"}, {"OVER", "base"}});
  OperationSpec op = make_op(
      "command",
      {{"run", argv({"sh", "-c", "printf '%s|%s|%s|' \"$BASE\" \"$OVER\" \"$PORT\"; pwd -P; cat"})},
       {"env", DatumRecord{{"OVER", "op"}, {"PORT", int64_t{8080}}}},
       {"cwd", "sub dir"},
       {"stdin", "to stdin; $(not run)\n"}});
  OpResult r = run_op(op, ctx);
  REQUIRE(r.ok);
  char* real = ::realpath((dir / "ws/sub dir").c_str(), nullptr);
  REQUIRE(real);
  const std::string expected = "from base|op|8080|" + std::string(real) + "\nto stdin; $(not run)\n";
  std::free(real);
  CHECK(log_text(ctx.log_path).find(expected) != std::string::npos);
}

TEST_CASE("command output lands in the log between a header and a trailer", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  OperationSpec op = make_op("command", {{"run", argv({"sh", "-c", "echo out; printf err >&2"})}}, "build");
  REQUIRE(run_op(op, ctx).ok);
  const std::string log = log_text(ctx.log_path);
  INFO(log);
  CHECK(log.rfind("==> ", 0) == 0);
  CHECK(log.find(" build (command) run\nout\nerr\n<== ") != std::string::npos);
  CHECK(log.find("build (command) run: ok: exit status 0 (") != std::string::npos);
  CHECK(log.back() == '\n');
}

TEST_CASE("command timeout stops the process group, grandchildren included", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  ctx.timeout = Duration{300'000'000};
  OpResult r = run_op(
      make_op("command", {{"run", argv({"sh", "-c", "sleep 30 & echo child=$!; sleep 30"})}}), ctx);
  CHECK_FALSE(r.ok);
  CHECK(r.timed_out);
  CHECK(r.code == "provisioning::operation::timeout");
  CHECK(r.duration.nanos < 3'000'000'000);
  const pid_t grandchild = pid_after(log_text(ctx.log_path), "child=");
  REQUIRE(grandchild > 0);
  CHECK(becomes_gone(grandchild));
}

TEST_CASE("command stops when the CancelToken fires", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  CancelToken cancel;
  ctx.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel.cancel();
  });
  OpResult r = run_op(make_op("command", {{"run", argv({"sleep", "30"})}}), ctx);
  canceller.join();
  CHECK_FALSE(r.ok);
  CHECK(r.cancelled);
  CHECK(r.code == "provisioning::operation::cancelled");
  CHECK(r.duration.nanos < 2'000'000'000);
}

TEST_CASE("command reports a program that does not exist as a failed result", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  OpResult r = run_op(make_op("command", {{"run", argv({"prov-no-such-program-xyz"})}}), ctx);
  CHECK_FALSE(r.ok);
  CHECK(r.code == "provisioning::process::spawn");
  CHECK(r.message.find("prov-no-such-program-xyz") != std::string::npos);
  CHECK_FALSE(r.exit_code.has_value());
  CHECK(log_text(ctx.log_path).find("failed [provisioning::process::spawn]") != std::string::npos);

  OpResult missing_cwd =
      run_op(make_op("command", {{"run", argv({"true"})}, {"cwd", "nowhere"}}), ctx);
  CHECK(missing_cwd.code == "provisioning::process::spawn");
  CHECK(missing_cwd.message.find("nowhere") != std::string::npos);
}

TEST_CASE("command passes hostile argv elements literally", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string marker = dir / "marker";
  const std::vector<std::string> hostile = {"; touch " + marker, "$(touch " + marker + ")",
                                            "`touch " + marker + "`", "a\ntouch " + marker,
                                            "&& touch " + marker};
  DatumList run = {"printf", "<%s>"};
  std::string expected;
  for (const std::string& h : hostile) {
    run.emplace_back(h);
    expected += "<" + h + ">";
  }
  REQUIRE(run_op(make_op("command", {{"run", run}}), ctx).ok);
  CHECK(log_text(ctx.log_path).find(expected) != std::string::npos);
  CHECK(::access(marker.c_str(), F_OK) != 0);
}

TEST_CASE("command rollback runs the rollback argv with the same env and cwd", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  dir.mkdir("ws/d");
  const CommandOp& kind = *dynamic_cast<const CommandOp*>(find_kind("command"));
  OperationSpec op = make_op("command", {{"run", argv({"true"})},
                                         {"env", DatumRecord{{"WHAT", "undone"}}},
                                         {"cwd", "d"},
                                         {"rollback", argv({"sh", "-c", "echo $WHAT > marker"})}});
  CHECK(kind.has_rollback(op));
  OpResult r = kind.rollback(op, Datum(), ctx);
  CHECK(r.ok);
  CHECK(slurp(dir / "ws/d/marker") == "undone\n");
  CHECK(::access(ctx.log_path.c_str(), F_OK) != 0);  // silent and successful: no log

  OperationSpec plain = make_op("command", {{"run", argv({"true"})}});
  CHECK_FALSE(kind.has_rollback(plain));
  CHECK(kind.rollback(plain, Datum(), ctx).ok);
}

namespace {
bool is_field_problem(const std::string& code) {
  return code == "provisioning::workflow::missing_field" || code == "provisioning::workflow::wrong_type" ||
         code == "provisioning::workflow::bad_value";
}
}  // namespace

TEST_CASE("command refuses malformed fields with the field's name", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const OpKind& kind = *find_kind("command");
  auto refused = [&](DatumRecord fields, const std::string& field) {
    OperationSpec op = make_op("command", std::move(fields));
    try {
      kind.validate(op);
      FAIL("expected WorkflowError");
    } catch (const WorkflowError& e) {
      // The parser's codes and wording: one declaration of the kind's fields serves both.
      CHECK(is_field_problem(e.code()));
      CHECK(std::string(e.what()).find("'" + field) != std::string::npos);
    }
    OpResult r = kind.run(op, ctx);  // the same problem, as a result
    CHECK_FALSE(r.ok);
    CHECK(is_field_problem(r.code));
  };
  refused({}, "run");
  refused({{"run", "echo hi; rm -rf /"}}, "run");  // a string is never split by a shell
  refused({{"run", DatumList{}}}, "run");
  refused({{"run", DatumList{"echo", DatumRecord{}}}}, "run");
  refused({{"run", DatumList{std::string("ec\0ho", 5)}}}, "run");
  refused({{"run", argv({"true"})}, {"env", DatumList{"A=1"}}}, "env");
  refused({{"run", argv({"true"})}, {"env", DatumRecord{{"A=B", "1"}}}}, "env");
  refused({{"run", argv({"true"})}, {"cwd", int64_t{3}}}, "cwd");
  refused({{"run", argv({"true"})}, {"rollback", "undo it"}}, "rollback");
  CHECK_NOTHROW(kind.validate(make_op("command", {{"run", DatumList{"sleep", int64_t{1}}}})));
}

TEST_CASE("command's out is its stdout without the final newline, or parsed JSON", "[ops][command]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  OpResult text = run_op(make_op("command", {{"run", argv({"sh", "-c", "echo two; echo lines; echo err >&2"})}}), ctx);
  REQUIRE(text.ok);
  CHECK(text.out == Datum("two\nlines"));
  CHECK(slurp(dir / "op.log").find("err") != std::string::npos);  // the log has both streams

  OpResult json = run_op(
      make_op("command", {{"run", argv({"echo", R"({"ports": [8080], "ok": true})"})}, {"output", "json"}}), ctx);
  REQUIRE(json.ok);
  CHECK(json.out == Datum(DatumRecord{{"ports", Datum(DatumList{int64_t{8080}})}, {"ok", Datum(true)}}));

  OpResult bad = run_op(make_op("command", {{"run", argv({"echo", "nope"})}, {"output", "json"}}), ctx);
  CHECK_FALSE(bad.ok);
  CHECK(bad.permanent);
  CHECK(bad.code == "provisioning::operation::bad_output");
  CHECK(bad.message.find("not JSON") != std::string::npos);

  OpResult big =
      run_op(make_op("command", {{"run", argv({"sh", "-c", "head -c 1048577 /dev/zero | tr '\\0' a"})}}), ctx);
  CHECK_FALSE(big.ok);
  CHECK(big.code == "provisioning::operation::output_too_long");
  CHECK(big.message.find("more than 1 MiB to stdout") != std::string::npos);
  OpResult fits =
      run_op(make_op("command", {{"run", argv({"sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' a"})}}), ctx);
  REQUIRE(fits.ok);
  CHECK(fits.out.str().size() == 1048576);
}
