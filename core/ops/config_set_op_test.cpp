#include "core/ops/config_set_op.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <thread>
#include <toml++/toml.h>

#include "core/config/toml_file.hpp"
#include "core/ops/ops_test_support.hpp"
#include "core/support/atomic_file.hpp"

using namespace prov;
using namespace prov::testing;

namespace {

OperationSpec set(const std::string& key, Datum value) {
  return make_op("config.set", {{"key", key}, {"value", std::move(value)}});
}

const char* kUser = R"(# user overrides
name = "demo"
started = 1979-05-27
mask = 0o755

[providers.local]
timeout = "30s"
ports = [8080, 8081]

[[servers]]
name = "a"
)";

}  // namespace

TEST_CASE("config.set changes one key and keeps the others; rollback restores it", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir.write("ws/config.user.toml", kUser);
  ::chmod(file.c_str(), 0640);
  const OpKind& kind = *find_kind("config.set");

  OperationSpec op = set("providers.local.timeout", Duration{90'000'000'000});
  OpResult r = kind.run(op, ctx);
  REQUIRE(r.ok);
  CHECK(r.message == "set providers.local.timeout in config.user.toml");
  const std::string after = slurp(file);
  INFO(after);
  // Only the value's text changed: comments, quoting and layout stay byte for byte.
  std::string expected = kUser;
  expected.replace(expected.find("\"30s\""), 5, "\"1m30s\"");
  CHECK(after == expected);
  CHECK(read_file_if_exists(file)->mode == 0640);
  CHECK(r.resource_event == "configuration_changed");
  CHECK(r.resource == Datum(DatumRecord{{"type", Datum("config")},
                                        {"key", Datum("providers.local.timeout")},
                                        {"file", Datum("config.user.toml")}}));

  OpResult back = kind.rollback(op, r.undo, ctx);
  REQUIRE(back.ok);
  CHECK(back.resource_event == "configuration_changed");
  CHECK(slurp(file) == kUser);  // the exact previous bytes
}

TEST_CASE("config.set rollback keeps the exact TOML type of the old value", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir.write("ws/config.user.toml", kUser);
  const OpKind& kind = *find_kind("config.set");
  for (const char* key : {"started", "mask", "name"}) {
    INFO(key);
    OperationSpec op = set(key, "replaced");
    OpResult r = kind.run(op, ctx);
    REQUIRE(r.ok);
    CHECK(toml::parse(slurp(file))[key].value<std::string>() == "replaced");
    REQUIRE(kind.rollback(op, r.undo, ctx).ok);
    CHECK(slurp(file) == kUser);
  }
  // A table, an array of tables and what is inside inline values are not edited in place.
  for (const char* key : {"providers", "servers", "servers.name", "providers.local.ports.0"}) {
    INFO(key);
    OpResult r = run_op(set(key, "replaced"), ctx);
    CHECK(r.code == "provisioning::config::cannot_edit");
    CHECK(r.message.find("config.user.toml") != std::string::npos);
  }
  CHECK(slurp(file) == kUser);
}

TEST_CASE("config.set creates the file and tables; rollback removes what it created", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir / "ws/config.user.toml";
  const OpKind& kind = *find_kind("config.set");

  OperationSpec op = set("a.\"b.c\".d", DatumRecord{{"x", int64_t{1}}, {"when", DateTime{"2024-01-02T03:04:05+00:00"}}});
  OpResult r = kind.run(op, ctx);
  REQUIRE(r.ok);
  CHECK(read_file_if_exists(file)->mode == 0600);
  const std::optional<Datum> read = read_toml_file(file);
  REQUIRE(read);
  CHECK(*read == Datum(DatumRecord{
                     {"a", DatumRecord{{"b.c", DatumRecord{{"d", DatumRecord{{"when", DateTime{"2024-01-02T03:04:05+00:00"}},
                                                                             {"x", int64_t{1}}}}}}}}}));
  REQUIRE(kind.rollback(op, r.undo, ctx).ok);
  CHECK_FALSE(read_file_if_exists(file).has_value());

  // In an existing file, only the tables the run created go away.
  dir.write("ws/config.user.toml", "[a]\nkeep = 1\n");
  OperationSpec nested = set("a.b.c", true);
  OpResult r2 = kind.run(nested, ctx);
  REQUIRE(r2.ok);
  CHECK(slurp(file) == "[a]\nkeep = 1\nb.c = true\n");
  REQUIRE(kind.rollback(nested, r2.undo, ctx).ok);
  CHECK(slurp(file) == "[a]\nkeep = 1\n");

  // A key of a table no section holds gets its own section at the end; rollback takes it away.
  dir.write("ws/config.user.toml", "# mine\nx = 1 # one\n");
  OperationSpec fresh = set("p.q", "v");
  OpResult r3 = kind.run(fresh, ctx);
  REQUIRE(r3.ok);
  CHECK(slurp(file) == "# mine\nx = 1 # one\n\n[p]\nq = \"v\"\n");
  REQUIRE(kind.rollback(fresh, r3.undo, ctx).ok);
  CHECK(slurp(file) == "# mine\nx = 1 # one\n");
  // No lock file is left in the workspace.
  CHECK_FALSE(read_file_if_exists(dir / "ws/.config.user.toml.lock").has_value());
}

TEST_CASE("config.set refuses what it cannot write", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  dir.write("ws/config.user.toml", "name = \"demo\"\n");
  CHECK(run_op(set("name.first", "x"), ctx).code == "provisioning::config::key_conflict");
  CHECK(run_op(set("a..b", "x"), ctx).code == "provisioning::workflow::bad_value");
  CHECK(run_op(set("a", Datum()), ctx).code == "provisioning::workflow::missing_field");  // null is absent
  CHECK(run_op(set("a", DatumList{Datum()}), ctx).code == "provisioning::workflow::invalid_field");
  CHECK(run_op(make_op("config.set", {{"value", 1}}), ctx).code == "provisioning::workflow::missing_field");
  CHECK(slurp(dir / "ws/config.user.toml") == "name = \"demo\"\n");  // untouched

  dir.write("ws/config.user.toml", "name = [unclosed\n");
  OpResult broken = run_op(set("a", 1), ctx);
  CHECK(broken.code == "provisioning::config::parse");
  CHECK(broken.message.find("config.user.toml") != std::string::npos);
}

TEST_CASE("config.set edits from many threads at once lose nothing", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  constexpr int n = 16;
  std::vector<std::thread> threads;
  std::vector<int> ok(n, 0);
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] { ok[i] = run_op(set("k.key" + std::to_string(i), int64_t{i}), ctx).ok; });
  for (std::thread& t : threads) t.join();
  const toml::table doc = toml::parse(slurp(dir / "ws/config.user.toml"));
  for (int i = 0; i < n; ++i) {
    CHECK(ok[i] == 1);
    CHECK(doc["k"]["key" + std::to_string(i)].value<int64_t>() == i);
  }
}

TEST_CASE("config.set keeps a replaced secret out of its undo record, in a private file", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir.write("ws/config.user.toml", "[deploy]\nssh_key = \"key-S3CR3T\"\nname = \"n\"\n");
  ctx.private_dir = dir.path() + "/undo";
  const OpKind& kind = *find_kind("config.set");

  SECTION("a secret key's old value goes to a 0600 file in a 0700 folder; rollback restores it") {
    OperationSpec op = set("deploy.ssh_key", Datum("new"));
    OpResult r = kind.run(op, ctx);
    REQUIRE(r.ok);
    CHECK(r.undo.find("previous_value") == nullptr);
    REQUIRE(r.undo.find("previous_value_file") != nullptr);
    CHECK(r.undo.find("previous_value_file")->str() == op.id + ".toml");
    const auto kept = read_file_if_exists(ctx.private_dir + "/" + op.id + ".toml");
    REQUIRE(kept);
    CHECK(kept->mode == 0600);
    CHECK(kept->data.find("key-S3CR3T") != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(ctx.private_dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    REQUIRE(kind.rollback(op, r.undo, ctx).ok);
    CHECK(slurp(file) == "[deploy]\nssh_key = \"key-S3CR3T\"\nname = \"n\"\n");
  }
  SECTION("so does an inline table that holds a secret key") {
    dir.write("ws/config.user.toml", "creds = { ssh_key = \"key-S3CR3T\" }\n");
    OpResult r = kind.run(set("creds", Datum(DatumRecord{{"name", Datum("other")}})), ctx);
    REQUIRE(r.ok);
    CHECK(r.undo.find("previous_value") == nullptr);
    CHECK(r.undo.find("previous_value_file") != nullptr);
    CHECK(slurp(file).find("S3CR3T") == std::string::npos);
  }
  SECTION("a plain key's old value stays in the undo record") {
    OpResult r = kind.run(set("deploy.name", Datum("m")), ctx);
    REQUIRE(r.ok);
    REQUIRE(r.undo.find("previous_value") != nullptr);
    CHECK(r.undo.find("previous_value")->str() == "\"n\"");
    CHECK(r.undo.find("previous_value_file") == nullptr);
  }
  SECTION("configured patterns decide what is secret") {
    ctx.secret_patterns = {"name"};
    OpResult r = kind.run(set("deploy.name", Datum("m")), ctx);
    REQUIRE(r.ok);
    CHECK(r.undo.find("previous_value_file") != nullptr);
  }
  SECTION("without a private folder the secret is not replaced, and retrying cannot help") {
    ctx.private_dir.clear();
    OpResult r = kind.run(set("deploy.ssh_key", Datum("new")), ctx);
    CHECK_FALSE(r.ok);
    CHECK(r.permanent);
    CHECK(r.code == "provisioning::operation::secret_undo");
    CHECK(slurp(file).find("key-S3CR3T") != std::string::npos);
  }
  SECTION("an undo record naming a file outside the private folder is refused") {
    Datum undo(DatumRecord{{"key", Datum("deploy.ssh_key")},
                           {"file_existed", Datum(true)},
                           {"existed", Datum(true)},
                           {"previous_file", Datum("../journal")}});
    OpResult r = kind.rollback(set("deploy.ssh_key", Datum("new")), undo, ctx);
    CHECK_FALSE(r.ok);
    CHECK(r.code == "provisioning::operation::bad_undo");
  }
}

TEST_CASE("config.set refuses a config file toml++ must not read, with the position", "[ops][config.set]") {
  TempDir dir;
  OpContext ctx = make_context(dir);
  const std::string file = dir.write("ws/config.user.toml", "a = 1\n\xc3\xa9 = 2\n");
  OpResult r = run_op(set("a", 3), ctx);
  CHECK(r.code == "provisioning::config::parse");
  CHECK(r.message.find("line 2, column 1") != std::string::npos);
  CHECK(slurp(file) == "a = 1\n\xc3\xa9 = 2\n");
}
