#include "core/ops/file_write_op.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/ops/ops_test_support.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"

using namespace prov;
using namespace prov::testing;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("file.write creates a new file with its mode; rollback removes it and its new dirs",
          "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  dir.mkdir("ws/etc");
  const OpKind& kind = *find_kind("file.write");
  OperationSpec op = make_op("file.write", {{"path", "etc/app/conf.d/app.toml"},
                                            {"content", "port = 8080\n"},
                                            {"mode", "0640"}});
  OpResult r = kind.run(op, ctx);
  REQUIRE(r.ok);
  const std::string file = dir / "ws/etc/app/conf.d/app.toml";
  CHECK(slurp(file) == "port = 8080\n");
  CHECK(mode_of(file) == 0640);
  REQUIRE(r.undo.is_record());
  CHECK(r.undo.find("existed")->v == Datum(false).v);
  CHECK(*r.undo.find("path") == Datum("etc/app/conf.d/app.toml"));
  CHECK(*r.undo.find("created_dirs") == Datum(DatumList{"etc/app", "etc/app/conf.d"}));

  CHECK(kind.has_rollback(op));
  OpResult undone = kind.rollback(op, r.undo, ctx);
  REQUIRE(undone.ok);
  CHECK_FALSE(exists(file));
  CHECK_FALSE(exists(dir / "ws/etc/app"));
  CHECK(exists(dir / "ws/etc"));  // it was there before
}

TEST_CASE("file.write replaces an existing file; rollback restores content and mode",
          "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir.write("ws/motd", std::string("old\0bytes\xff", 10));
  ::chmod(file.c_str(), 0600);
  const OpKind& kind = *find_kind("file.write");

  // Without `mode`, the file keeps the one it has.
  OperationSpec op = make_op("file.write", {{"path", "motd"}, {"content", "new"}});
  OpResult r = kind.run(op, ctx);
  REQUIRE(r.ok);
  CHECK(slurp(file) == "new");
  CHECK(mode_of(file) == 0600);
  CHECK(*r.undo.find("content") == Datum(std::string("old\0bytes\xff", 10)));
  CHECK(*r.undo.find("mode") == Datum(int64_t{0600}));

  OperationSpec chmod = make_op("file.write", {{"path", dir / "ws/motd"}, {"content", "newer"}, {"mode", int64_t{0755}}});
  OpResult r2 = kind.run(chmod, ctx);
  REQUIRE(r2.ok);
  CHECK(mode_of(file) == 0755);

  REQUIRE(kind.rollback(chmod, r2.undo, ctx).ok);
  CHECK(slurp(file) == "new");
  CHECK(mode_of(file) == 0600);
  REQUIRE(kind.rollback(op, r.undo, ctx).ok);
  CHECK(slurp(file) == std::string("old\0bytes\xff", 10));
  CHECK(mode_of(file) == 0600);
}

TEST_CASE("file.write reads modes written as octal text or ints", "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  for (const Datum& mode : {Datum("644"), Datum("0o644"), Datum("0644"), Datum(int64_t{0644})}) {
    REQUIRE(run_op(make_op("file.write", {{"path", "m"}, {"content", ""}, {"mode", mode}}), ctx).ok);
    CHECK(mode_of(dir / "ws/m") == 0644);
  }
  for (const Datum& mode : {Datum("rw-r--r--"), Datum("0999"), Datum(""), Datum(int64_t{644}),
                            Datum("4755"), Datum(true)}) {
    INFO(to_display(mode));
    OpResult r = run_op(make_op("file.write", {{"path", "m"}, {"content", ""}, {"mode", mode}}), ctx);
    CHECK((r.code == "provisioning::workflow::bad_value" || r.code == "provisioning::workflow::wrong_type"));
    CHECK(r.message.find("'mode'") != std::string::npos);
  }
}

TEST_CASE("file.write refuses paths outside the workspace", "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  dir.mkdir("outside");
  REQUIRE(::symlink((dir / "outside").c_str(), (dir / "ws/escape").c_str()) == 0);
  for (const std::string& path : {std::string("../outside/x"), std::string("a/../../outside/x"),
                                  dir / "outside/x", std::string("escape/x"),
                                  std::string("escape/deeper/x"), std::string("."),
                                  std::string("sub/")}) {
    INFO(path);
    OpResult r = run_op(make_op("file.write", {{"path", path}, {"content", "pwned"}}), ctx);
    CHECK_FALSE(r.ok);
    CHECK(r.code == "provisioning::operation::path_outside_workspace");
  }
  // An empty path is no path at all, as the parser says too.
  CHECK(run_op(make_op("file.write", {{"path", ""}, {"content", "x"}}), ctx).code == "provisioning::workflow::bad_value");
  CHECK_FALSE(exists(dir / "outside/x"));
  CHECK_FALSE(exists(dir / "outside/deeper"));

  // A symlink as the file itself is not written through, nor replaced.
  const std::string secret = dir.write("outside/secret", "keep");
  REQUIRE(::symlink(secret.c_str(), (dir / "ws/link").c_str()) == 0);
  OpResult r = run_op(make_op("file.write", {{"path", "link"}, {"content", "pwned"}}), ctx);
  CHECK(r.code == "provisioning::resource::read");
  CHECK(slurp(secret) == "keep");

  // Absolute paths inside the workspace, and `..` that stays inside, are fine.
  CHECK(run_op(make_op("file.write", {{"path", dir / "ws/in.txt"}, {"content", "x"}}), ctx).ok);
  CHECK(run_op(make_op("file.write", {{"path", "a/../b.txt"}, {"content", "x"}}), ctx).ok);
  CHECK(slurp(dir / "ws/b.txt") == "x");
}

TEST_CASE("file.write rollback checks its undo record", "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const OpKind& kind = *find_kind("file.write");
  OperationSpec op = make_op("file.write", {{"path", "f"}, {"content", "x"}});
  CHECK(kind.rollback(op, Datum(), ctx).code == "provisioning::operation::bad_undo");
  CHECK(kind.rollback(op, DatumRecord{{"path", "f"}, {"existed", true}}, ctx).code ==
        "provisioning::operation::bad_undo");
  // A tampered journal cannot make rollback remove files outside the workspace.
  const std::string victim = dir.write("victim", "keep");
  OpResult r = kind.rollback(op, DatumRecord{{"path", "../victim"}, {"existed", false}}, ctx);
  CHECK(r.code == "provisioning::operation::path_outside_workspace");
  CHECK(slurp(victim) == "keep");
  // Undoing the creation of a file that is gone already is fine.
  CHECK(kind.rollback(op, DatumRecord{{"path", "f"}, {"existed", false}}, ctx).ok);
}

TEST_CASE("file.write needs path and content as strings", "[ops][file.write]") {
  const OpKind& kind = *find_kind("file.write");
  CHECK_THROWS_AS(kind.validate(make_op("file.write", {{"content", "x"}})), WorkflowError);
  CHECK_THROWS_AS(kind.validate(make_op("file.write", {{"path", "p"}})), WorkflowError);
  CHECK_THROWS_AS(kind.validate(make_op("file.write", {{"path", "p"}, {"content", int64_t{1}}})),
                  WorkflowError);
  CHECK_NOTHROW(kind.validate(make_op("file.write", {{"path", "p"}, {"content", ""}})));
}

TEST_CASE("file.write's out is the path, the bytes written and their sha256", "[ops][file.write]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const OpResult r = run_op(make_op("file.write", {{"path", "d/abc.txt"}, {"content", "abc"}}), ctx);
  REQUIRE(r.ok);
  CHECK(r.out ==
        Datum(DatumRecord{{"path", Datum("d/abc.txt")},
                          {"bytes", Datum(int64_t{3})},
                          {"sha256", Datum("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")}}));
}
