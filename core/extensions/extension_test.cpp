#include "core/extensions/extension.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

SemVer version(const char* text) {
  std::string why;
  return *SemVer::parse(text, why);
}

const char* kGood = R"(
[extension]
name = "hello"
version = "1.2.0"
type = "provider"
description = "says hello"
entry_points = { provider = "nulib/provider.nu" }
[compatibility]
provisioning = ">=0.1.0, <0.3.0"
)";

bool has_problem(const Extension& e, const std::string& part) {
  for (const auto& p : e.problems)
    if (p.find(part) != std::string::npos) return true;
  return false;
}

std::string problems(const Extension& e) {
  std::string s;
  for (const auto& p : e.problems) s += p + "\n";
  return s;
}

}  // namespace

TEST_CASE("extension: a good manifest is valid and compatible", "[extension]") {
  TempDir dir;
  dir.write("hello/extension.toml", kGood);
  dir.write("hello/nulib/provider.nu", "export def list-servers [] { [] }\n");
  Extension e = read_extension(dir / "hello", version("0.1.0"));
  INFO(problems(e));
  CHECK(e.valid);
  CHECK(e.compatible);
  CHECK(e.usable());
  CHECK(e.name == "hello");
  CHECK(e.version == "1.2.0");
  CHECK(e.type == "provider");
  CHECK(e.description == "says hello");
  CHECK(e.problems.empty());
  REQUIRE(e.entry_points.size() == 1);
  CHECK(e.entry_point("provider").ends_with("/hello/nulib/provider.nu"));
  const Datum d = e.to_datum();
  CHECK(d.find("valid")->v == Datum::Variant(true));
  CHECK(d.find("problems")->list().empty());
}

TEST_CASE("extension: an incompatible one is valid but not usable, and says why", "[extension]") {
  TempDir dir;
  dir.write("hello/extension.toml", kGood);
  dir.write("hello/nulib/provider.nu", "");
  Extension e = read_extension(dir / "hello", version("0.3.0"));
  CHECK(e.valid);
  CHECK_FALSE(e.compatible);
  CHECK_FALSE(e.usable());
  CHECK(has_problem(e, "needs provisioning >=0.1.0, <0.3.0; this plugin is 0.3.0"));
}

TEST_CASE("extension: every problem of a bad manifest is listed", "[extension]") {
  TempDir dir;
  dir.write("bad/extension.toml", R"(
[extension]
name = "bad name!"
version = "1.2"
type = "spaceship"
entry_points = { main = 42, other = "/etc/passwd", up = "../outside.nu", missing = "nope.nu" }
[compatibility]
provisioning = "=>1"
)");
  Extension e = read_extension(dir / "bad", version("0.1.0"));
  INFO(problems(e));
  CHECK_FALSE(e.valid);
  CHECK_FALSE(e.usable());
  CHECK(e.name == "bad");
  CHECK(has_problem(e, "name `bad name!` may hold only"));
  CHECK(has_problem(e, "version: `1.2` is not a full version"));
  CHECK(has_problem(e, "type `spaceship` is not one of"));
  CHECK(has_problem(e, "entry point `main` must be a path (a non-empty string), not int"));
  CHECK(has_problem(e, "entry point `other` (/etc/passwd) must be relative"));
  CHECK(has_problem(e, "entry point `up` (../outside.nu) leads out of the extension's folder (`..`)"));
  CHECK(has_problem(e, "entry point `missing` (nope.nu) does not exist"));
  CHECK(has_problem(e, "unknown operator `=>`"));
  CHECK(e.entry_points.empty());
}

TEST_CASE("extension: a symlink leading out of the folder is rejected", "[extension]") {
  TempDir dir;
  dir.write("outside/provider.nu", "export def list-servers [] { [] }\n");
  dir.write("sneaky/extension.toml", R"(
[extension]
name = "sneaky"
version = "0.1.0"
type = "provider"
entry_points = { provider = "nulib/provider.nu" }
[compatibility]
provisioning = "*"
)");
  dir.mkdir("sneaky/nulib");
  REQUIRE(::symlink((dir / "outside/provider.nu").c_str(), (dir / "sneaky/nulib/provider.nu").c_str()) == 0);
  Extension e = read_extension(dir / "sneaky", version("0.1.0"));
  CHECK_FALSE(e.valid);
  CHECK(has_problem(e, "entry point `provider` (nulib/provider.nu) is a symlink leading out of the extension's folder"));
  CHECK(e.entry_point("provider").empty());

  // A symlink that stays inside is fine.
  dir.write("inside/extension.toml", R"(
[extension]
name = "inside"
version = "0.1.0"
type = "workflow"
entry_points = { main = "link.nu" }
[compatibility]
provisioning = "*"
)");
  dir.write("inside/real.nu", "");
  REQUIRE(::symlink("real.nu", (dir / "inside/link.nu").c_str()) == 0);
  Extension ok = read_extension(dir / "inside", version("0.1.0"));
  INFO(problems(ok));
  CHECK(ok.valid);
}

TEST_CASE("extension: missing sections, malformed TOML and wrong types", "[extension]") {
  TempDir dir;
  dir.write("empty/extension.toml", "");
  Extension e = read_extension(dir / "empty", version("0.1.0"));
  CHECK(has_problem(e, "[extension] is missing"));
  CHECK(has_problem(e, "[compatibility] is missing"));

  dir.write("broken/extension.toml", "[extension\nname = 1\n");
  Extension b = read_extension(dir / "broken", version("0.1.0"));
  CHECK_FALSE(b.valid);
  REQUIRE(b.problems.size() == 1);
  CHECK(b.problems[0].starts_with("extension.toml cannot be read:"));

  dir.write("types/extension.toml", "[extension]\nname = 5\nversion = \"1.0.0\"\ntype = \"provider\"\n"
                                     "entry_points = \"x\"\n[compatibility]\nprovisioning = 3\n");
  Extension t = read_extension(dir / "types", version("0.1.0"));
  CHECK(has_problem(t, "[extension] name must be a string, not int"));
  CHECK(has_problem(t, "entry_points must be a table"));
  CHECK(has_problem(t, "[compatibility] provisioning must be a string, not int"));
  CHECK(has_problem(t, "needs the entry point `provider`"));

  dir.write("elsewhere/extension.toml", "[extension]\nname = \"elsewhere\"\nversion = \"1.0.0\"\n"
                                        "type = \"provider\"\nentry_points = { provider = \"lib/provider.nu\" }\n"
                                        "[compatibility]\nprovisioning = \"*\"\n");
  dir.write("elsewhere/lib/provider.nu", "");
  Extension w = read_extension(dir / "elsewhere", version("0.1.0"));
  CHECK_FALSE(w.valid);
  CHECK(has_problem(w, "entry point `provider` must be nulib/provider.nu"));
}

TEST_CASE("extension: discovery lists folders with a manifest, sorted, and flags duplicate names", "[extension]") {
  TempDir dir;
  dir.write("b/extension.toml", kGood);
  dir.write("b/nulib/provider.nu", "");
  dir.write("a/extension.toml", kGood);
  dir.write("a/nulib/provider.nu", "");
  dir.write("c/extension.toml", std::string(kGood).replace(std::string(kGood).find("hello"), 5, "other"));
  dir.write("c/nulib/provider.nu", "");
  dir.mkdir("not-an-extension");
  auto all = discover_extensions(dir.path(), version("0.1.0"));
  REQUIRE(all.size() == 3);
  CHECK(all[0].path == dir / "a");
  CHECK(all[1].path == dir / "b");
  CHECK_FALSE(all[0].valid);
  CHECK(has_problem(all[0], "another extension has the name `hello`: " + (dir / "b")));
  CHECK_FALSE(all[1].valid);
  CHECK(all[2].name == "other");
  CHECK(all[2].valid);
  CHECK(discover_extensions(dir / "nowhere", version("0.1.0")).empty());
}
