#include "core/config/layers.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

std::vector<std::string> names_of(const std::vector<Layer>& layers) {
  std::vector<std::string> out;
  for (const Layer& l : layers) out.push_back(l.name + (l.values ? "+" : "-"));
  return out;
}

ConfigError layers_failure(const ConfigRequest& request, const std::string& ws,
                           const std::string& env) {
  try {
    read_layers(request, ws, env);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

}  // namespace

TEST_CASE("builtin_defaults describe a workspace", "[config][layers]") {
  Datum d = builtin_defaults("/srv/ws");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  CHECK(d == Datum(DatumRecord{
                 {"paths", DatumRecord{{"base", "/srv/ws"},
                                       {"state", "{{paths.base}}/.provisioning"}}},
                 {"providers", DatumRecord{{"default", "local"}}},
                 {"workflow", DatumRecord{{"parallel", static_cast<int64_t>(cores)}}},
                 {"secrets",
                  DatumRecord{{"patterns", DatumList{"password", "secret", "token", "key", "apikey", "passwd"}}}},
             }));
  // A workspace path is never read as a template.
  CHECK(*builtin_defaults("/srv/{{x}}").find("paths")->find("base") == Datum("/srv/\\{{x}}"));
}

TEST_CASE("global_config_path follows XDG_CONFIG_HOME, then HOME", "[config][layers]") {
  ConfigRequest request;
  CHECK(global_config_path(request) == "");
  request.env["HOME"] = "/home/ada";
  CHECK(global_config_path(request) == "/home/ada/.config/provisioning/config.toml");
  request.env["XDG_CONFIG_HOME"] = "relative/ignored";
  CHECK(global_config_path(request) == "/home/ada/.config/provisioning/config.toml");
  request.env["XDG_CONFIG_HOME"] = "/xdg";
  CHECK(global_config_path(request) == "/xdg/provisioning/config.toml");
}

TEST_CASE("read_layers lists every layer in order, found or not", "[config][layers]") {
  TempDir dir("prov-layers");
  const std::string ws = dir.mkdir("ws");
  ConfigRequest request;
  request.cwd = ws;
  request.env["HOME"] = dir / "home";

  std::vector<Layer> layers = read_layers(request, ws, "");
  CHECK(names_of(layers) == std::vector<std::string>{"builtin+", "defaults-", "global-", "user-",
                                                     "env-", "plugin-", "runtime-"});
  CHECK(layers[0].source == "built-in");
  CHECK(layers[1].source == ws + "/config.defaults.toml");
  CHECK(layers[2].source == dir / "home/.config/provisioning/config.toml");
  CHECK(layers[3].source == ws + "/config.user.toml");
  CHECK(layers[4].source == "");  // no environment named
  CHECK(layers[5].source == "$env.config.plugins.provisioning");
  CHECK(layers[6].source == "pipeline input");

  dir.write("ws/config.defaults.toml", "a = 1\n");
  dir.write("home/.config/provisioning/config.toml", "a = 2\n");
  dir.write("ws/config.user.toml", "a = 3\n");
  dir.write("ws/config.staging.toml", "a = 4\n");
  request.plugin_config = DatumRecord{{"a", 5}};
  request.runtime = DatumRecord{{"a", 6}};
  layers = read_layers(request, ws, "staging");
  CHECK(names_of(layers) == std::vector<std::string>{"builtin+", "defaults+", "global+", "user+",
                                                     "env+", "plugin+", "runtime+"});
  CHECK(layers[4].source == ws + "/config.staging.toml");
  for (size_t i = 1; i < layers.size(); ++i)
    CHECK(*layers[i].values == Datum(DatumRecord{{"a", static_cast<int>(i)}}));

  // Null from the engine means "not given".
  request.plugin_config = Datum();
  request.runtime = Datum();
  layers = read_layers(request, ws, "staging");
  CHECK_FALSE(layers[5].values);
  CHECK_FALSE(layers[6].values);
}

TEST_CASE("read_layers: an environment named by --env must have a file", "[config][layers]") {
  TempDir dir("prov-layers");
  const std::string ws = dir.mkdir("ws");
  dir.write("ws/config.dev.toml", "");
  dir.write("ws/config.prod.toml", "");
  dir.write("ws/config.defaults.toml", "");
  ConfigRequest request;
  request.cwd = ws;

  // From PROVISIONING_ENV a missing file is an error too, never a quiet fall-back.
  ConfigError e = layers_failure(request, ws, "prd");
  CHECK(e.code() == "provisioning::config::environment_not_found");
  CHECK(std::string(e.what()) == "environment 'prd' (from $env.PROVISIONING_ENV) has no configuration file: " + ws +
                                     "/config.prd.toml does not exist");
  CHECK(e.help() == "did you mean prod? create " + ws +
                        "/config.prd.toml, or use one of: dev prod; or leave it unset: hide-env PROVISIONING_ENV");
  CHECK(e.blame().kind == Blame::Kind::none);

  request.env_flag = "qa";
  e = layers_failure(request, ws, "qa");
  CHECK(e.code() == "provisioning::config::environment_not_found");
  CHECK(std::string(e.what()) == "environment 'qa' has no configuration file: " + ws +
                                     "/config.qa.toml does not exist");
  CHECK(e.help() == "create " + ws + "/config.qa.toml, or use one of: dev prod");
  CHECK(e.blame().kind == Blame::Kind::flag);
  CHECK(e.blame().name == "env");
}

TEST_CASE("read_layers: plugin config and runtime input must be records", "[config][layers]") {
  ConfigRequest request;
  request.cwd = "/";
  request.plugin_config = Datum(DatumList{1});
  ConfigError e = layers_failure(request, "/nonexistent-ws", "");
  CHECK(e.code() == "provisioning::config::bad_plugin_config");
  CHECK(std::string(e.what()) == "$env.config.plugins.provisioning must be a record, not a list");
  CHECK(e.blame().kind == Blame::Kind::none);

  request.plugin_config.reset();
  request.runtime = Datum("parallel=2");
  e = layers_failure(request, "/nonexistent-ws", "");
  CHECK(e.code() == "provisioning::config::bad_runtime");
  CHECK(std::string(e.what()) == "the pipeline input must be a record, not a string");
  CHECK(e.blame().kind == Blame::Kind::input);
}

TEST_CASE("read_layers reports unreadable and malformed layer files", "[config][layers]") {
  TempDir dir("prov-layers");
  const std::string ws = dir.mkdir("ws");
  ConfigRequest request;
  request.cwd = ws;
  dir.mkdir("ws/config.user.toml");  // a directory where a file should be
  ConfigError e = layers_failure(request, ws, "");
  CHECK(e.code() == "provisioning::config::read");
  CHECK(std::string(e.what()).find(ws + "/config.user.toml") != std::string::npos);

  dir.write("ws/config.defaults.toml", "[x\n");
  e = layers_failure(request, ws, "");
  CHECK(e.code() == "provisioning::config::parse");
  REQUIRE(e.position());
  CHECK(e.position()->path == ws + "/config.defaults.toml");
}
