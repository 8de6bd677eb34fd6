#include "core/config/config.hpp"

#include <catch2/catch.hpp>
#include <regex>

#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

const std::string kExamples = std::string(PROV_SOURCE_DIR) + "/examples";
const std::string kFixtures = std::string(PROV_SOURCE_DIR) + "/tests/config";

/// A request for `workspace` that sees no global config (HOME is an empty temp dir).
ConfigRequest request_for(const std::string& workspace, const TempDir& home) {
  ConfigRequest request;
  request.cwd = workspace;
  request.env["HOME"] = home.path();
  return request;
}

/// The error of loading, or of the first key that failed (Config::all).
ConfigError load_failure(const ConfigRequest& request) {
  try {
    load_config(request).all();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

ConfigError get_failure(const Config& config, const std::vector<std::string>& path) {
  try {
    config_get(config, path);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

/// "key=value@layer" for every leaf.
std::vector<std::string> describe(const Config& config) {
  std::vector<std::string> out;
  for (const ConfigLeaf& leaf : config.leaves)
    out.push_back(leaf.key + "=" + to_display(leaf.value) + "@" + leaf.layer);
  return out;
}

const ConfigLeaf& leaf(const Config& config, const std::string& key) {
  for (const ConfigLeaf& l : config.leaves)
    if (l.key == key) return l;
  FAIL("no leaf " << key);
  return config.leaves.front();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("load_config: the example workspace with the dev environment", "[config]") {
  TempDir home("prov-home");
  ConfigRequest request = request_for(kExamples, home);
  request.env_flag = "dev";
  const Config config = load_config(request);
  const std::string ws = kExamples;
  const std::string user = ws + "/config.user.toml";

  CHECK(config.workspace == ws);
  CHECK(config.environment == "dev");

  REQUIRE(config.layers.size() == 7);
  const std::vector<std::pair<std::string, bool>> expected_layers = {
      {"builtin", true}, {"defaults", true}, {"global", false}, {"user", true},
      {"env", true},     {"plugin", false},  {"runtime", false}};
  for (size_t i = 0; i < expected_layers.size(); ++i) {
    CHECK(config.layers[i].name == expected_layers[i].first);
    CHECK(config.layers[i].found == expected_layers[i].second);
  }
  CHECK(config.layers[4].source == ws + "/config.dev.toml");
  CHECK(config.layers[2].source == home / ".config/provisioning/config.toml");

  const std::vector<std::string> leaves = describe(config);
  REQUIRE(leaves.size() == 26);
  const std::string state = ws + "/.provisioning";
  const std::vector<std::string> expected = {
      "paths.base=" + ws + "@builtin",
      "paths.state=" + state + "@builtin",
      "paths.workflows=" + ws + "/workflows@defaults",
      "paths.providers=" + ws + "/providers@defaults",
      "paths.extensions=" + ws + "/extensions@defaults",
      "providers.default=local@defaults",
      "providers.local.timeout=5s@env",
      "providers.local.log_dir=" + state + "/local@defaults",
      "providers.folder.path=" + state + "/folder-servers@defaults",
      "providers.folder.timeout=10s@defaults",
      "providers.folder.api_token=dev-token-not-real@user",
      "workflow.parallel=2@env",
      "workflow.timeout=15m@defaults",
      "workflow.rollback_on_failure=true@defaults",
      "workflow.retry.attempts=1@env",
      "workflow.retry.backoff=500ms@defaults",
      "workflow.retry.max_backoff=10s@defaults",
      "secrets.patterns=[\"password\", \"secret\", \"token\", \"key\"]@defaults",
      "project.name=atlas@defaults",
      "project.owner=ada@user",
      "project.created=2024-03-18T09:30:00+01:00@defaults",
      "project.labels.tier=web@defaults",
      "project.labels.cost_center=cc-1042@defaults",
      "deploy.name=atlas-dev@env",
  };
  for (size_t i = 0; i < expected.size(); ++i) CHECK(leaves[i] == expected[i]);
  CHECK(std::regex_match(leaves[24], std::regex("deploy\\.artifacts=" + state +
                                                "/artifacts/\\d{4}-\\d{2}-\\d{2}@env")));
  CHECK(leaves[25] == "deploy.parallel=2@env");

  // Sources name the file that set each leaf.
  CHECK(leaf(config, "project.owner").source == user);
  CHECK(leaf(config, "project.name").source == ws + "/config.defaults.toml");
  CHECK(leaf(config, "paths.base").source == "built-in");
  CHECK(leaf(config, "deploy.name").source == ws + "/config.dev.toml");

  // Typed values survive the trip: ints, dates, and a whole-string reference to an int.
  CHECK(config_get(config, {"deploy", "parallel"}) == Datum(int64_t{2}));
  CHECK(config_get(config, {"project.created"}) == Datum(DateTime{"2024-03-18T09:30:00+01:00"}));
  CHECK(config_get(config, {"workflow", "rollback_on_failure"}) == Datum(true));
}

TEST_CASE("load_config: every layer, each overriding the one below", "[config]") {
  TempDir dir("prov-cfg");
  const std::string ws = dir.mkdir("ws");
  dir.write("ws/config.defaults.toml",
            "[k]\ndefaults = 'defaults'\nglobal = 'defaults'\nuser = 'defaults'\n"
            "env = 'defaults'\nplugin = 'defaults'\nruntime = 'defaults'\n");
  dir.write("xdg/provisioning/config.toml",
            "[k]\nglobal = 'global'\nuser = 'global'\nenv = 'global'\nplugin = 'global'\n"
            "runtime = 'global'\n");
  dir.write("ws/config.user.toml",
            "[k]\nuser = 'user'\nenv = 'user'\nplugin = 'user'\nruntime = 'user'\n");
  dir.write("ws/config.qa.toml", "[k]\nenv = 'env'\nplugin = 'env'\nruntime = 'env'\n");

  ConfigRequest request;
  request.cwd = dir.mkdir("ws/sub");
  request.env = {{"HOME", dir / "home"}, {"XDG_CONFIG_HOME", dir / "xdg"},
                 {"PROVISIONING_ENV", "qa"}};
  request.plugin_config =
      DatumRecord{{"k", DatumRecord{{"plugin", "plugin"}, {"runtime", "plugin"}}}};
  request.runtime = DatumRecord{{"k", DatumRecord{{"runtime", "runtime"}}}};

  const Config config = load_config(request);
  CHECK(config.workspace == ws);
  CHECK(config.environment == "qa");
  for (const ConfigLayerInfo& layer : config.layers) CHECK(layer.found);
  for (const std::string name : {"defaults", "global", "user", "env", "plugin", "runtime"}) {
    CAPTURE(name);
    const ConfigLeaf& l = leaf(config, "k." + name);
    CHECK(l.value == Datum(name));
    CHECK(l.layer == name);
  }
  CHECK(leaf(config, "k.global").source == dir / "xdg/provisioning/config.toml");
  CHECK(leaf(config, "k.env").source == ws + "/config.qa.toml");
  CHECK(leaf(config, "k.plugin").source == "$env.config.plugins.provisioning");
  CHECK(leaf(config, "k.runtime").source == "pipeline input");
  CHECK(leaf(config, "paths.state").value == Datum(ws + "/.provisioning"));
}

TEST_CASE("load_config: runtime input and plugin config override files and may interpolate",
          "[config]") {
  TempDir home("prov-home");
  ConfigRequest request = request_for(kExamples, home);
  request.plugin_config = DatumRecord{{"paths", DatumRecord{{"state", "/var/lib/prov"}}}};
  request.runtime = DatumRecord{
      {"workflow", DatumRecord{{"parallel", 16}, {"retry", "none"}}},
      {"note", "state in {{paths.state}}"},
  };
  const Config config = load_config(request);
  CHECK(config.environment == "");
  CHECK(config.layers[4].source == "");
  CHECK_FALSE(config.layers[4].found);
  CHECK(config_get(config, {"workflow.parallel"}) == Datum(16));
  // The retry table became a string: its leaves are gone from provenance.
  CHECK(leaf(config, "workflow.retry").layer == "runtime");
  for (const ConfigLeaf& l : config.leaves) CHECK_FALSE(contains(l.key, "workflow.retry."));
  // Values that referred to paths.state follow the plugin's override.
  CHECK(config_get(config, {"providers", "local", "log_dir"}) == Datum("/var/lib/prov/local"));
  CHECK(config_get(config, {"note"}) == Datum("state in /var/lib/prov"));
  CHECK(leaf(config, "paths.state").layer == "plugin");
  CHECK(leaf(config, "paths.state").value == Datum("/var/lib/prov"));
}

TEST_CASE("load_config: workspace from an ancestor, the flag, the environment or cwd",
          "[config]") {
  TempDir home("prov-home");
  TempDir dir("prov-ws");
  dir.write("ws/config.defaults.toml", "[project]\nname = 'nested'\n");
  ConfigRequest request = request_for(dir.mkdir("ws/a/b"), home);
  Config config = load_config(request);
  CHECK(config.workspace == dir / "ws");
  CHECK(config_get(config, {"project.name"}) == Datum("nested"));
  CHECK(config_get(config, {"paths.base"}) == Datum(dir / "ws"));

  TempDir outside("prov-cwd");
  request.cwd = outside.path();
  request.workspace_flag = kExamples;
  CHECK(load_config(request).workspace == kExamples);
  request.workspace_flag.reset();
  request.env["PROVISIONING_WORKSPACE"] = kExamples;
  CHECK(load_config(request).workspace == kExamples);
  request.env.erase("PROVISIONING_WORKSPACE");
  const Config bare = load_config(request);
  CHECK(bare.workspace == outside.path());
  CHECK_FALSE(bare.layers[1].found);
  CHECK(config_get(bare, {"providers", "default"}) == Datum("local"));
  CHECK(config_get(bare, {"paths", "state"}) == Datum(outside / ".provisioning"));
}

TEST_CASE("load_config: a workspace path holding {{ is not read as a placeholder", "[config]") {
  TempDir home("prov-home");
  TempDir dir("prov-ws");
  const std::string ws = dir.mkdir("odd {{name}} dir");
  dir.write("odd {{name}} dir/config.defaults.toml", "[deploy]\nout = '{{paths.state}}/out'\n");
  const Config config = load_config(request_for(ws, home));
  CHECK(config.workspace == ws);
  CHECK(config_get(config, {"paths.base"}) == Datum(ws));
  CHECK(config_get(config, {"deploy.out"}) == Datum(ws + "/.provisioning/out"));
  CHECK(leaf(config, "paths.base").value == Datum(ws));
}

TEST_CASE("load_config: {{git.branch}} is the workspace's branch", "[config]") {
  bool git = false;
  try {
    git = run_captured({"git", "--version"}).exit_code == 0;
  } catch (const ResourceError&) {
  }
  if (!git) {
    FAIL("git is not installed (tools/setup.sh installs it)");
  }
  TempDir dir("prov-git");
  REQUIRE(run_captured({"git", "init", "-q", dir.path()}).exit_code == 0);
  REQUIRE(run_captured({"git", "-C", dir.path(), "symbolic-ref", "HEAD", "refs/heads/topic"})
              .exit_code == 0);
  dir.write("config.defaults.toml",
            "[deploy]\nbranch = '{{git.branch}}'\ntag = 'v1-{{git.branch}}'\n");
  ConfigRequest request;
  request.cwd = dir.mkdir("nested");
  const Config config = load_config(request);
  CHECK(config_get(config, {"deploy", "branch"}) == Datum("topic"));
  CHECK(config_get(config, {"deploy", "tag"}) == Datum("v1-topic"));

  // Outside a repository the placeholder is an error, but only when it is used.
  TempDir plain("prov-nogit");
  plain.write("config.defaults.toml", "[deploy]\nbranch = '{{git.branch}}'\n");
  request.cwd = plain.path();
  CHECK(load_failure(request).code() == "provisioning::config::git");
  // Keys that do not use it load; the one that does fails naming itself and its file.
  plain.write("config.defaults.toml",
              "[deploy]\nname = 'n'\nbranch = '{{git.branch}}'\nsafe = '{{git.branch ?? \"main\"}}'\n");
  const Config partial = load_config(request);
  CHECK(config_get(partial, {"deploy", "name"}) == Datum("n"));
  CHECK(config_get(partial, {"deploy", "safe"}) == Datum("main"));
  ConfigError e = get_failure(partial, {"deploy", "branch"});
  CHECK(e.code() == "provisioning::config::git");
  CHECK(contains(e.what(), "{{git.branch}} in deploy.branch: "));
  CHECK(contains(e.what(), "(deploy.branch is set in " + plain.path() + "/config.defaults.toml)"));
  CHECK(e.blame().name == "path");
  CHECK(get_failure(partial, {"deploy"}).code() == "provisioning::config::git");
  plain.write("config.defaults.toml", "[deploy]\nbranch = 'fixed'\n");
  CHECK(config_get(load_config(request), {"deploy.branch"}) == Datum("fixed"));
}

TEST_CASE("load_config: errors from the fixture workspaces", "[config]") {
  TempDir home("prov-home");

  ConfigError e = load_failure(request_for(kFixtures + "/malformed", home));
  const std::string malformed = kFixtures + "/malformed/config.defaults.toml";
  CHECK(e.code() == "provisioning::config::parse");
  CHECK(contains(e.what(), malformed));
  CHECK(contains(e.what(), "line 5, column 16"));
  REQUIRE(e.position());
  CHECK(e.position()->path == malformed);
  CHECK(e.position()->line == 5);
  CHECK(e.position()->column == 16);

  e = load_failure(request_for(kFixtures + "/cycle", home));
  CHECK(e.code() == "provisioning::config::interpolation_cycle");
  CHECK(std::string(e.what()) ==
        "placeholders form a cycle: deploy.target -> deploy.source -> deploy.target (deploy.source is set in " +
            kFixtures + "/cycle/config.defaults.toml)");

  e = load_failure(request_for(kFixtures + "/unknown_placeholder", home));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(std::string(e.what()) ==
        "unknown placeholder {{config.providers.local.timout}} in deploy.wait: there is no "
        "configuration key providers.local.timout (deploy.wait is set in " +
            kFixtures + "/unknown_placeholder/config.defaults.toml)");
  CHECK(e.help() == "did you mean providers.local.timeout?");
}

TEST_CASE("load_config: flag errors are blamed on the flag", "[config]") {
  TempDir home("prov-home");
  ConfigRequest request = request_for(kExamples, home);
  request.env_flag = "../config";
  ConfigError e = load_failure(request);
  CHECK(e.code() == "provisioning::config::bad_environment");
  CHECK(e.blame().name == "env");

  request.env_flag = "prod";
  e = load_failure(request);
  CHECK(e.code() == "provisioning::config::environment_not_found");
  CHECK(contains(e.what(), kExamples + "/config.prod.toml"));
  CHECK(contains(e.help(), "one of: dev"));
  CHECK(e.blame().name == "env");

  request.env_flag.reset();
  request.env["PROVISIONING_ENV"] = "prod";  // from the variable: an error all the same
  e = load_failure(request);
  CHECK(e.code() == "provisioning::config::environment_not_found");
  CHECK(contains(e.what(), "(from $env.PROVISIONING_ENV)"));
  request.env.erase("PROVISIONING_ENV");

  request.workspace_flag = "no/such/dir";
  e = load_failure(request);
  CHECK(e.code() == "provisioning::config::workspace_not_found");
  CHECK(e.blame().kind == Blame::Kind::flag);
  CHECK(e.blame().name == "workspace");

  request.workspace_flag.reset();
  request.runtime = Datum(int64_t{3});
  e = load_failure(request);
  CHECK(e.code() == "provisioning::config::bad_runtime");
  CHECK(e.blame().kind == Blame::Kind::input);

  request.runtime.reset();
  request.plugin_config = Datum("x");
  CHECK(load_failure(request).code() == "provisioning::config::bad_plugin_config");
}

TEST_CASE("config_get finds values by members, dotted text and list index", "[config]") {
  TempDir dir("prov-get");
  dir.write("config.defaults.toml", R"(
[providers.local]
timeout = 30
[[servers]]
name = "web"
ports = [80, 443]
[[servers]]
name = "db"
["odd.keys"]
"a.b" = 1
)");
  ConfigRequest request;
  request.cwd = dir.path();
  const Config config = load_config(request);
  CHECK(config_get(config, {"providers", "local", "timeout"}) == Datum(Duration{30'000'000'000}));  // seconds
  CHECK(config_get(config, {"providers.local.timeout"}) == Datum(Duration{30'000'000'000}));
  CHECK(config_get(config, {"servers", "1", "name"}) == Datum("db"));
  CHECK(config_get(config, {"servers.0.ports.1"}) == Datum(443));
  CHECK(config_get(config, {"odd.keys", "a.b"}) == Datum(1));  // several members: no splitting
  CHECK(config_get(config, {"\"odd.keys\".\"a.b\""}) == Datum(1));
  CHECK(config_get(config, {"providers"}).is_record());
  CHECK(&config_get(config, {}) == &config.merged);
}

TEST_CASE("config_get misses name the key, the deepest prefix and nearby keys", "[config]") {
  TempDir home("prov-home");
  const Config config = load_config(request_for(kExamples, home));

  ConfigError e = get_failure(config, {"providers.local.timout"});
  CHECK(e.code() == "provisioning::config::key_not_found");
  CHECK(std::string(e.what()) ==
        "no configuration key providers.local.timout: providers.local has no key timout");
  CHECK(e.help() == "did you mean providers.local.timeout?");
  CHECK(e.blame().kind == Blame::Kind::argument);
  CHECK(e.blame().name == "path");

  e = get_failure(config, {"providers", "folder", "timeot"});
  CHECK(e.help() == "did you mean providers.folder.timeout?");

  e = get_failure(config, {"workflw"});
  CHECK(std::string(e.what()) ==
        "no configuration key workflw: the configuration has no key workflw");
  CHECK(e.help() == "did you mean workflow?");

  // Nothing near: the help lists what the deepest prefix holds.
  e = get_failure(config, {"providers", "aws", "region"});
  CHECK(std::string(e.what()) ==
        "no configuration key providers.aws.region: providers has no key aws");
  CHECK(e.help() == "keys under providers: default local folder");

  e = get_failure(config, {"providers.local.timeout.seconds"});
  CHECK(std::string(e.what()) ==
        "no configuration key providers.local.timeout.seconds: "
        "providers.local.timeout is a duration and has no members");

  e = get_failure(config, {"secrets", "patterns", "9"});
  CHECK(contains(e.what(), "secrets.patterns is a list of 4 items and has no item 9"));

  e = get_failure(config, {"a..b"});
  CHECK(e.code() == "provisioning::config::key_not_found");
  CHECK(e.blame().name == "path");
}

TEST_CASE("load_config: variables asked one by one through env_lookup, each once", "[config]") {
  TempDir dir, home;
  dir.write("ws/config.defaults.toml", "[a]\nuser = \"{{env.PROV_TEST_USER}}\"\nagain = \"{{env.PROV_TEST_USER}}\"\n");
  ConfigRequest request;
  request.cwd = dir / "ws";
  std::map<std::string, int> asked;
  request.env_lookup = [&](const std::string& name) -> std::optional<std::string> {
    ++asked[name];
    if (name == "PROV_TEST_USER") return "ada";
    if (name == "HOME") return home.path();
    return std::nullopt;
  };
  Config config = load_config(request);
  CHECK(config.merged.find("a")->find("user")->str() == "ada");
  CHECK(config.merged.find("a")->find("again")->str() == "ada");
  CHECK(asked["PROV_TEST_USER"] == 1);
  CHECK(asked["PROVISIONING_WORKSPACE"] == 1);

  // An unset variable: suggestions come from env_names.
  dir.write("ws/config.defaults.toml", "[a]\nuser = \"{{env.PROV_TEST_USR}}\"\n");
  ConfigRequest again = request;
  again.looked_up_.clear();
  again.env_names = [] { return std::vector<std::string>{"PROV_TEST_USER", "PATH"}; };
  ConfigError e = load_failure(again);
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(e.help() == "did you mean PROV_TEST_USER?");
}

TEST_CASE("load_config: a table of 100,000 keys and keys of 255 parts load whole", "[config][big]") {
  // Their load times are figures (bench/config_bench.sh); here, the results.
  TempDir wide("prov-wide");
  std::string text = "[t]\n";
  for (int i = 0; i < 100000; ++i)
    text += "k" + std::to_string(i) + " = \"{{config.t.k0}}-" + std::to_string(i) + "\"\n";
  text.replace(text.find("\"{{config.t.k0}}-0\""), 19, "\"base\"");
  wide.write("config.defaults.toml", text);
  ConfigRequest request;
  request.cwd = wide.path();
  const Config big = load_config(request);
  CHECK(big.merged.find("t")->record().size() == 100000);
  CHECK(config_get(big, {"t", "k99999"}) == Datum("base-99999"));

  TempDir deep("prov-deep");
  std::string chain;
  for (int j = 0; j < 254; ++j) chain += "p" + std::to_string(j) + ".";
  std::string doc;
  for (int i = 0; i < 1000; ++i) doc += chain + "k" + std::to_string(i) + " = " + std::to_string(i) + "\n";
  deep.write("config.defaults.toml", doc);
  request.cwd = deep.path();
  const Config chained = load_config(request);
  KeyPath last;
  for (int j = 0; j < 254; ++j) last.push_back("p" + std::to_string(j));
  last.push_back("k999");
  CHECK(config_get(chained, last) == Datum(int64_t{999}));
  CHECK(chained.leaves.size() == 1000 + 5);  // and the 5 built-in leaves
}
