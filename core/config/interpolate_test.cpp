#include "core/config/interpolate.hpp"

#include <catch2/catch.hpp>
#include <regex>

#include "core/support/error.hpp"

using namespace prov;

namespace {

const std::map<std::string, std::string> kEnv = {{"HOME", "/home/ada"}, {"USER", "ada"},
                                                 {"REGION", "eu-west-1"}};

// 2024-02-29T13:45:07Z
const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::time_point(std::chrono::seconds(1709214307));

Datum run(const Datum& config, std::function<std::string()> git = [] { return "main"; }) {
  return interpolate(config, InterpolationContext{kEnv, kNow, std::move(git)});
}

/// The ConfigError interpolating `config` throws.
ConfigError failure(const Datum& config) {
  try {
    run(config);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError");
  return ConfigError("", "");
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("interpolate resolves paths, config and env placeholders", "[config][interpolate]") {
  Datum out = run(DatumRecord{
      {"paths", DatumRecord{{"base", "/ws"}, {"state", "{{paths.base}}/.provisioning"}}},
      {"project", DatumRecord{{"name", "atlas"}}},
      {"deploy", DatumRecord{{"dir", "{{paths.state}}/{{config.project.name}}"},
                             {"home", "{{env.HOME}}/.cache"},
                             {"spaced", "{{ env.USER }}@{{  config.project.name }}"}}},
  });
  CHECK(*out.find("paths")->find("state") == Datum("/ws/.provisioning"));
  CHECK(*out.find("deploy")->find("dir") == Datum("/ws/.provisioning/atlas"));
  CHECK(*out.find("deploy")->find("home") == Datum("/home/ada/.cache"));
  CHECK(*out.find("deploy")->find("spaced") == Datum("ada@atlas"));
}

TEST_CASE("interpolate resolves references whatever order keys come in", "[config][interpolate]") {
  Datum out = run(DatumRecord{
      {"a", "{{config.b}}-a"},
      {"b", "{{config.c}}-b"},
      {"c", "{{env.USER}}"},
  });
  CHECK(*out.find("a") == Datum("ada-b-a"));
  CHECK(*out.find("b") == Datum("ada-b"));
  CHECK(*out.find("c") == Datum("ada"));
}

TEST_CASE("interpolate: now.date and now.datetime are UTC", "[config][interpolate]") {
  Datum out = run(DatumRecord{{"d", "{{now.date}}"},
                              {"t", "{{now.datetime}}"},
                              {"log", "run-{{now.date}}.log"}});
  CHECK(*out.find("d") == Datum("2024-02-29"));
  CHECK(*out.find("t") == Datum("2024-02-29T13:45:07+00:00"));
  CHECK(*out.find("log") == Datum("run-2024-02-29.log"));

  // With the real clock the shapes still hold.
  Datum live = interpolate(DatumRecord{{"d", "{{now.date}}"}, {"t", "{{now.datetime}}"}},
                           InterpolationContext{kEnv, std::chrono::system_clock::now(), {}});
  CHECK(std::regex_match(live.find("d")->str(), std::regex(R"(\d{4}-\d{2}-\d{2})")));
  CHECK(std::regex_match(live.find("t")->str(),
                         std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00)")));
}

TEST_CASE("interpolate asks for the git branch once, and only when needed",
          "[config][interpolate]") {
  int calls = 0;
  auto git = [&] {
    ++calls;
    return std::string("release/2.0");
  };
  Datum out = run(DatumRecord{{"a", "{{git.branch}}"}, {"b", "deploy-{{git.branch}}"},
                              {"c", DatumList{"{{git.branch}}"}}},
                  git);
  CHECK(*out.find("a") == Datum("release/2.0"));
  CHECK(*out.find("b") == Datum("deploy-release/2.0"));
  CHECK(*out.find("c") == Datum(DatumList{"release/2.0"}));
  CHECK(calls == 1);

  calls = 0;
  run(DatumRecord{{"a", "plain"}}, git);
  CHECK(calls == 0);
}

TEST_CASE("interpolate: a whole-string reference keeps the referenced type",
          "[config][interpolate]") {
  Datum out = run(DatumRecord{
      {"workflow", DatumRecord{{"parallel", 4}, {"ratio", 0.5}, {"on", true}}},
      {"created", DateTime{"1979-05-27T07:32:00-08:00"}},
      {"patterns", DatumList{"password", "token"}},
      {"copy", DatumRecord{{"parallel", "{{config.workflow.parallel}}"},
                           {"ratio", "{{ config.workflow.ratio }}"},
                           {"on", "{{config.workflow.on}}"},
                           {"created", "{{config.created}}"},
                           {"patterns", "{{config.patterns}}"},
                           {"workflow", "{{config.workflow}}"}}},
      {"text", "n={{config.workflow.parallel}} r={{config.workflow.ratio}} "
               "on={{config.workflow.on}} at {{config.created}}"},
  });
  const Datum& copy = *out.find("copy");
  CHECK(*copy.find("parallel") == Datum(int64_t{4}));
  CHECK(*copy.find("ratio") == Datum(0.5));
  CHECK(*copy.find("on") == Datum(true));
  CHECK(*copy.find("created") == Datum(DateTime{"1979-05-27T07:32:00-08:00"}));
  CHECK(*copy.find("patterns") == Datum(DatumList{"password", "token"}));
  CHECK(*copy.find("workflow") == *out.find("workflow"));
  CHECK(*out.find("text") == Datum("n=4 r=0.5 on=true at 1979-05-27T07:32:00-08:00"));
}

TEST_CASE("interpolate: referenced records and lists arrive interpolated",
          "[config][interpolate]") {
  Datum out = run(DatumRecord{
      {"alias", "{{config.target}}"},
      {"target", DatumRecord{{"dir", "{{paths.base}}/t"}, {"args", DatumList{"{{env.USER}}"}}}},
      {"paths", DatumRecord{{"base", "/ws"}}},
      {"via_alias", "{{config.alias.dir}}"},
      {"item", "{{config.target.args.0}}"},
  });
  const Datum expected = DatumRecord{{"dir", "/ws/t"}, {"args", DatumList{"ada"}}};
  CHECK(*out.find("alias") == expected);
  CHECK(*out.find("target") == expected);
  // A path may pass through a string that is a reference to a record.
  CHECK(*out.find("via_alias") == Datum("/ws/t"));
  CHECK(*out.find("item") == Datum("ada"));
}

TEST_CASE("interpolate: \\{{ is a literal {{ and is not scanned again", "[config][interpolate]") {
  Datum out = run(DatumRecord{
      {"tpl", "\\{{name}} and {{env.USER}}"},
      {"ref", "{{config.tpl}}"},
      {"mixed", "x {{config.tpl}}"},
      {"lone", "a { b } c }} d \\ e"},
  });
  CHECK(*out.find("tpl") == Datum("{{name}} and ada"));
  CHECK(*out.find("ref") == Datum("{{name}} and ada"));
  CHECK(*out.find("mixed") == Datum("x {{name}} and ada"));
  CHECK(*out.find("lone") == Datum("a { b } c }} d \\ e"));
}

TEST_CASE("escape_placeholders makes any text survive interpolation", "[config][interpolate]") {
  for (std::string text : {"/tmp/{{odd}}/ws", "{{{", "\\{{", "a{b}c", "{{}}", "x\\", "{{{{"}) {
    if (text.find("{{") != std::string::npos) CHECK(escape_placeholders(text) != text);
    Datum out = run(DatumRecord{{"v", escape_placeholders(text)}});
    CHECK(*out.find("v") == Datum(text));
  }
  CHECK(escape_placeholders("plain") == "plain");
}

TEST_CASE("interpolate: unknown placeholders name the key and the placeholder",
          "[config][interpolate]") {
  const Datum base = DatumRecord{
      {"providers", DatumRecord{{"local", DatumRecord{{"timeout", 30}}}}},
  };
  auto with = [&](Datum value) {
    Datum d = base;
    d.set("deploy", DatumRecord{{"target", std::move(value)}});
    return d;
  };

  ConfigError e = failure(with("{{config.providers.local.timout}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(std::string(e.what()) ==
        "unknown placeholder {{config.providers.local.timout}} in deploy.target: there is no "
        "configuration key providers.local.timout");
  CHECK(e.help() == "did you mean providers.local.timeout?");

  e = failure(with("{{paths.nowhere}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(contains(e.what(), "{{paths.nowhere}} in deploy.target"));
  CHECK(contains(e.what(), "paths.nowhere"));

  e = failure(with("x-{{path.base}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(contains(e.what(), "{{path.base}} in deploy.target"));
  CHECK(contains(e.what(), "no placeholder namespace is called 'path'"));
  CHECK(contains(e.help(), "did you mean {{paths.base}}?"));

  e = failure(with("{{env.REGOIN}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(contains(e.what(), "environment variable REGOIN is not set"));
  CHECK(e.help() == "did you mean REGION?");

  e = failure(with("{{now.time}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(contains(e.what(), "{{now.time}} in deploy.target"));

  e = failure(with("{{git.commit}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");

  e = failure(with("{{config}}"));
  CHECK(e.code() == "provisioning::config::unknown_placeholder");

  // The key reported is the one holding the placeholder, even when reached by reference.
  Datum chained = with("{{config.middle}}");
  chained.set("middle", "{{config.nope}}");
  e = failure(chained);
  CHECK(contains(e.what(), "{{config.nope}} in middle:"));

  // Keys inside lists are named by index.
  e = failure(with(DatumList{"ok", "{{env.NOPE}}"}));
  CHECK(contains(e.what(), "in deploy.target.1:"));
}

TEST_CASE("interpolate: reference cycles are errors naming the chain", "[config][interpolate]") {
  ConfigError e = failure(DatumRecord{
      {"a", DatumRecord{{"b", "{{config.c.d}}"}}},
      {"c", DatumRecord{{"d", "x{{config.a.b}}"}}},
  });
  CHECK(e.code() == "provisioning::config::interpolation_cycle");
  CHECK(std::string(e.what()) == "placeholders form a cycle: a.b -> c.d -> a.b");

  e = failure(DatumRecord{{"self", "{{config.self}}"}});
  CHECK(e.code() == "provisioning::config::interpolation_cycle");
  CHECK(std::string(e.what()) == "placeholders form a cycle: self -> self");

  // A member referring to the record that holds it.
  e = failure(DatumRecord{{"r", DatumRecord{{"inner", "{{config.r}}"}}}});
  CHECK(e.code() == "provisioning::config::interpolation_cycle");
  CHECK(std::string(e.what()) == "placeholders form a cycle: r -> r.inner -> r");
}

TEST_CASE("interpolate: a chain of references is bounded, not followed until the stack ends",
          "[config][interpolate]") {
  // k0 -> k1 -> … -> k(n-1) -> "end": resolving k0 recurses through every key.
  auto chain = [](int n) {
    DatumRecord r;
    for (int i = 0; i < n; ++i) r.emplace_back("k" + std::to_string(i), "{{config.k" + std::to_string(i + 1) + "}}");
    r.emplace_back("k" + std::to_string(n), "end");
    return Datum(std::move(r));
  };
  const Datum fine = run(chain(250));
  CHECK(fine.find("k0")->str() == "end");
  const ConfigError e = failure(chain(100000));
  CHECK(e.code() == "provisioning::config::interpolation_depth");
  CHECK(std::string(e.what()) == "placeholders refer through more than 256 keys, from k0 to k255");
}

TEST_CASE("interpolate: malformed placeholders are errors", "[config][interpolate]") {
  ConfigError e = failure(DatumRecord{{"k", "{{paths.base"}});
  CHECK(e.code() == "provisioning::config::bad_placeholder");
  CHECK(std::string(e.what()) ==
        "unterminated placeholder in k: \"{{paths.base\" has no closing }}");

  e = failure(DatumRecord{{"k", "a {{ }} b"}});
  CHECK(e.code() == "provisioning::config::bad_placeholder");

  e = failure(DatumRecord{{"k", "{{config.a..b}}"}});
  CHECK(e.code() == "provisioning::config::bad_placeholder");

  // A record or list cannot become part of a longer string.
  e = failure(DatumRecord{{"r", DatumRecord{{"x", 1}}}, {"k", "value: {{config.r}}"}});
  CHECK(e.code() == "provisioning::config::bad_placeholder");
  CHECK(std::string(e.what()) ==
        "{{config.r}} in k is a record and cannot be part of a longer string");
  e = failure(DatumRecord{{"l", DatumList{1, 2}}, {"k", "{{config.l}}!"}});
  CHECK(e.code() == "provisioning::config::bad_placeholder");
  CHECK(contains(e.what(), "is a list"));
}

TEST_CASE("interpolate leaves values without placeholders alone", "[config][interpolate]") {
  const Datum config = DatumRecord{
      {"n", 1}, {"s", "plain"}, {"l", DatumList{1, "x", DatumRecord{}}}, {"e", DatumRecord{}},
      {"d", Duration{5}},
  };
  CHECK(run(config) == config);
}

TEST_CASE("interpolate_each fails only the keys that need a placeholder without a value", "[config][interpolate]") {
  int calls = 0;
  auto no_git = [&]() -> std::string {
    ++calls;
    throw ConfigError("provisioning::config::git", "not a git repository");
  };
  Interpolated out = interpolate_each(DatumRecord{{"name", "atlas"},
                                                  {"branch", "{{git.branch}}"},
                                                  {"label", "b-{{config.branch}}"},
                                                  {"also", "{{git.branch}}"},
                                                  {"list", DatumList{"ok", "{{config.label}}"}}},
                                      InterpolationContext{kEnv, kNow, no_git});
  CHECK(*out.value.find("name") == Datum("atlas"));
  REQUIRE(out.failures.size() == 4);
  CHECK(out.failures[0].key == KeyPath{"branch"});
  CHECK(out.failures[0].error.code() == "provisioning::config::git");
  CHECK(std::string(out.failures[0].error.what()) == "{{git.branch}} in branch: not a git repository");
  CHECK(out.failures[1].key == KeyPath{"label"});
  CHECK(out.failures[1].error.code() == "provisioning::config::git");
  CHECK(std::string(out.failures[1].error.what()) ==
        "{{config.branch}} in label needs branch, which cannot be resolved: {{git.branch}} in branch: not a git "
        "repository");
  CHECK(out.failures[2].key == KeyPath{"also"});
  CHECK(out.failures[3].key == KeyPath{"list", "1"});
  // The root cause is named, not the chain of keys that led to it.
  CHECK(contains(out.failures[3].error.what(), "needs label, which cannot be resolved: {{git.branch}} in branch:"));
  CHECK(out.value.find("branch")->is_null());
  CHECK(out.value.find("list")->list().front() == Datum("ok"));
  CHECK(calls == 1);  // git is asked once, its failure kept
}

TEST_CASE("interpolate: a fallback after ?? stands in for a source without a value", "[config][interpolate]") {
  auto no_git = []() -> std::string { throw ConfigError("provisioning::config::git", "no repository"); };
  Datum out = run(DatumRecord{{"branch", "{{git.branch ?? \"main\"}}"},
                              {"quoted", "{{ git.branch ?? 'single' }}"},
                              {"escaped", "{{git.branch ?? \"a \\\"b\\\" \\\\ ?? c\"}}"},
                              {"env", "{{env.NOPE ?? env.USER ?? \"x\"}}"},
                              {"text", "v-{{env.NOPE ?? \"none\"}}-{{env.REGION ?? \"x\"}}"},
                              {"key", "{{config.nope ?? config.name ?? 'k'}}"},
                              {"name", "atlas"},
                              {"typed", "{{config.nope ?? config.n}}"},
                              {"n", 3}},
                  no_git);
  CHECK(*out.find("branch") == Datum("main"));
  CHECK(*out.find("quoted") == Datum("single"));
  CHECK(*out.find("escaped") == Datum("a \"b\" \\ ?? c"));
  CHECK(*out.find("env") == Datum("ada"));
  CHECK(*out.find("text") == Datum("v-none-eu-west-1"));
  CHECK(*out.find("key") == Datum("atlas"));
  CHECK(*out.find("typed") == Datum(3));
  // The last alternative without a value is the error.
  ConfigError e = failure(DatumRecord{{"k", "{{env.NOPE ?? env.NOPE2}}"}});
  CHECK(e.code() == "provisioning::config::unknown_placeholder");
  CHECK(contains(e.what(), "{{env.NOPE2}} in k"));
  // Malformed alternatives are errors, never a fallback.
  CHECK(failure(DatumRecord{{"k", "{{env.NOPE ?? }}"}}).code() == "provisioning::config::bad_placeholder");
  CHECK(failure(DatumRecord{{"k", "{{env.NOPE ?? \"open}}"}}).code() == "provisioning::config::bad_placeholder");
  CHECK(failure(DatumRecord{{"k", "{{nope.x ?? \"y\"}}"}}).code() == "provisioning::config::unknown_placeholder");
}
