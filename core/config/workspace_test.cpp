#include "core/config/workspace.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

ConfigError workspace_failure(const ConfigRequest& request) {
  try {
    resolve_workspace(request);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

ConfigError environment_failure(const ConfigRequest& request) {
  try {
    resolve_environment(request);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

}  // namespace

TEST_CASE("resolve_workspace finds the nearest ancestor holding config.defaults.toml",
          "[config][workspace]") {
  TempDir dir("prov-ws");
  dir.write("outer/config.defaults.toml", "");
  dir.write("outer/inner/config.defaults.toml", "");
  const std::string deep = dir.mkdir("outer/inner/a/b");

  ConfigRequest request;
  request.cwd = deep;
  CHECK(resolve_workspace(request) == dir / "outer/inner");

  request.cwd = dir / "outer/inner";  // cwd itself counts
  CHECK(resolve_workspace(request) == dir / "outer/inner");

  request.cwd = dir.mkdir("outer/other") + "/";  // trailing slash and a sibling
  CHECK(resolve_workspace(request) == dir / "outer");
}

TEST_CASE("resolve_workspace falls back to cwd when no ancestor has config.defaults.toml",
          "[config][workspace]") {
  TempDir dir("prov-ws");
  ConfigRequest request;
  request.cwd = dir.mkdir("x/y") + "/./";
  CHECK(resolve_workspace(request) == dir / "x/y");
}

TEST_CASE("resolve_workspace prefers --workspace, then PROVISIONING_WORKSPACE",
          "[config][workspace]") {
  TempDir dir("prov-ws");
  dir.write("here/config.defaults.toml", "");
  const std::string from_env = dir.mkdir("from_env");
  dir.mkdir("from_flag");
  dir.mkdir("home/ws");

  ConfigRequest request;
  request.cwd = dir / "here";
  request.env["PROVISIONING_WORKSPACE"] = from_env;
  request.env["HOME"] = dir / "home";
  CHECK(resolve_workspace(request) == from_env);

  request.workspace_flag = "../from_flag";  // relative to cwd
  CHECK(resolve_workspace(request) == dir / "from_flag");
  request.workspace_flag = "~/ws";
  CHECK(resolve_workspace(request) == dir / "home/ws");
  request.workspace_flag = "~";
  CHECK(resolve_workspace(request) == dir / "home");
  request.workspace_flag = dir / "from_flag/";
  CHECK(resolve_workspace(request) == dir / "from_flag");

  request.workspace_flag.reset();
  request.env["PROVISIONING_WORKSPACE"] = "../from_env";  // relative to cwd too
  CHECK(resolve_workspace(request) == from_env);
  request.env["PROVISIONING_WORKSPACE"] = "";  // empty counts as unset
  CHECK(resolve_workspace(request) == dir / "here");
}

TEST_CASE("resolve_workspace rejects a named workspace that is not a directory",
          "[config][workspace]") {
  TempDir dir("prov-ws");
  const std::string file = dir.write("file.txt", "x");
  ConfigRequest request;
  request.cwd = dir.path();

  request.workspace_flag = "missing";
  ConfigError e = workspace_failure(request);
  CHECK(e.code() == "provisioning::config::workspace_not_found");
  CHECK(std::string(e.what()) == "workspace 'missing' (from --workspace) does not exist: " +
                                     (dir / "missing"));
  CHECK(e.blame().kind == Blame::Kind::flag);
  CHECK(e.blame().name == "workspace");

  request.workspace_flag = "file.txt";
  e = workspace_failure(request);
  CHECK(std::string(e.what()) ==
        "workspace 'file.txt' (from --workspace) is not a directory: " + file);

  request.workspace_flag = "";
  e = workspace_failure(request);
  CHECK(e.code() == "provisioning::config::workspace_not_found");
  CHECK(e.blame().name == "workspace");

  request.workspace_flag = "~/x";  // no HOME in the request's environment
  e = workspace_failure(request);
  CHECK(std::string(e.what()).find("HOME is not set") != std::string::npos);

  request.workspace_flag.reset();
  request.env["PROVISIONING_WORKSPACE"] = dir / "gone";
  e = workspace_failure(request);
  CHECK(e.code() == "provisioning::config::workspace_not_found");
  CHECK(std::string(e.what()).find("$env.PROVISIONING_WORKSPACE") != std::string::npos);
  CHECK(e.blame().kind == Blame::Kind::none);

  request.cwd = "relative/dir";
  CHECK(workspace_failure(request).code() == "provisioning::config::workspace_not_found");
}

TEST_CASE("resolve_environment prefers --env, then PROVISIONING_ENV", "[config][workspace]") {
  ConfigRequest request;
  request.cwd = "/";
  CHECK(resolve_environment(request) == "");
  request.env["PROVISIONING_ENV"] = "";
  CHECK(resolve_environment(request) == "");
  request.env["PROVISIONING_ENV"] = "staging";
  CHECK(resolve_environment(request) == "staging");
  request.env_flag = "prod-eu_2";
  CHECK(resolve_environment(request) == "prod-eu_2");
}

TEST_CASE("resolve_environment rejects names that could reach other files",
          "[config][workspace]") {
  ConfigRequest request;
  request.cwd = "/";
  for (const char* bad : {"../x", "a/b", "dev.local", "", "dev ", "prod\n", "ünï"}) {
    request.env_flag = bad;
    ConfigError e = environment_failure(request);
    CHECK(e.code() == "provisioning::config::bad_environment");
    CHECK(std::string(e.what()).find("(from --env)") != std::string::npos);
    CHECK(e.blame().kind == Blame::Kind::flag);
    CHECK(e.blame().name == "env");
  }
  request.env_flag.reset();
  request.env["PROVISIONING_ENV"] = "../../etc/passwd";
  ConfigError e = environment_failure(request);
  CHECK(e.code() == "provisioning::config::bad_environment");
  CHECK(std::string(e.what()) ==
        "invalid environment name '../../etc/passwd' (from $env.PROVISIONING_ENV)");
  CHECK(e.blame().kind == Blame::Kind::none);
}

TEST_CASE("find_workspace says how the root was chosen", "[config][workspace]") {
  TempDir dir("prov-ws");
  dir.write("ws/config.defaults.toml", "");
  const std::string inside = dir.mkdir("ws/a");
  const std::string outside = dir.mkdir("elsewhere");

  ConfigRequest request;
  request.cwd = outside;
  WorkspaceRoot root = find_workspace(request);
  CHECK(root.path == outside);
  CHECK(root.origin == WorkspaceOrigin::None);
  CHECK(workspace_origin_text(root.origin).empty());

  request.cwd = inside;
  root = find_workspace(request);
  CHECK(root.path == dir / "ws");
  CHECK(root.origin == WorkspaceOrigin::Found);
  CHECK(workspace_origin_text(root.origin) == "config.defaults.toml");

  request.env["PROVISIONING_WORKSPACE"] = outside;
  CHECK(find_workspace(request).origin == WorkspaceOrigin::Environment);
  request.workspace_flag = outside;
  CHECK(find_workspace(request).origin == WorkspaceOrigin::Flag);
  CHECK(workspace_origin_text(WorkspaceOrigin::Flag) == "--workspace");
}
