// Preflight: a workflow checked as its run will see it, every problem at once.

#include "core/engine/preflight.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/graph/workflow_parse.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

constexpr int64_t kSec = 1'000'000'000;

Datum json(const std::string& text) { return parse_workflow_json(text, "test.json"); }

/// The pinned Nu; a test that needs it fails without it (make setup installs it).
std::string pinned_nu() {
  const std::string nu = std::string(PROV_SOURCE_DIR) + "/node_modules/nushell/bin/nu";
  if (::access(nu.c_str(), X_OK) != 0) FAIL("no Nu binary at " << nu << ": run tools/setup.sh");
  return nu;
}

Error error_of(const Datum& doc, const PreflightContext& ctx) {
  try {
    preflight_workflow(doc, "test.json", ctx);
  } catch (const Error& e) {
    return e;
  }
  FAIL("the workflow was accepted");
  return Error("", "");
}

}  // namespace

TEST_CASE("a run's settings: the workflow's over the workspace's, field by field", "[engine][preflight]") {
  TempDir dir;
  const Datum config = json(R"({"workflow": {"parallel": 1, "nu_path": "/x/nu",
      "retry": {"attempts": 3, "backoff": "2s"}, "timeout": "1s", "rollback_on_failure": false}})");
  const PreflightContext ctx{dir.path(), &config, ""};
  WorkflowSpec spec = preflight_workflow(json(R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["true"]}]})"),
                                         "test.json", ctx);
  CHECK(spec.settings.parallel == 1);
  CHECK(spec.settings.retry.attempts == 3);
  CHECK(spec.settings.retry.backoff.nanos == 2 * kSec);
  CHECK(spec.settings.timeout->nanos == 1 * kSec);
  CHECK_FALSE(spec.settings.rollback_on_failure);
  CHECK_FALSE(spec.operations[0].retry);  // the workflow's, then

  spec = preflight_workflow(json(R"({"name": "w", "settings": {"retry": {"attempts": 5}, "rollback_on_failure": true},
      "operations": [{"id": "a", "kind": "command", "run": ["true"], "retry": {"backoff": "1s"}}]})"),
                            "test.json", ctx);
  CHECK(spec.settings.parallel == 1);
  CHECK(spec.settings.retry.attempts == 5);
  CHECK(spec.settings.retry.backoff.nanos == 2 * kSec);  // the workspace's, not overridden
  CHECK(spec.settings.rollback_on_failure);
  CHECK(spec.operations[0].retry->attempts == 5);
  CHECK(spec.operations[0].retry->backoff.nanos == 1 * kSec);
}

TEST_CASE("a bad run setting in the configuration is the configuration's error", "[engine][preflight]") {
  const Datum config = json(R"({"workflow": {"timeout": "soon", "parallel": 0}})");
  try {
    workspace_settings(config);
    FAIL("accepted");
  } catch (const ConfigError& e) {
    CHECK(e.code() == "provisioning::config::bad_duration");
    CHECK(std::string(e.what()).find("workflow.timeout") != std::string::npos);
    REQUIRE(e.related().size() == 1);
    CHECK(e.related()[0].code() == "provisioning::config::bad_value");
  }
}

TEST_CASE("preflight refuses what the run would, every problem at once", "[engine][preflight]") {
  TempDir dir;
  const Datum config = json(R"({"providers": {"default": "local"}})");
  const PreflightContext ctx{dir.path(), &config, pinned_nu()};
  const Datum doc = json(R"({"name": "w", "operations": [
      {"id": "ok", "kind": "nu", "code": "ls | length"},
      {"id": "bad-code", "kind": "nu", "code": "1 + "},
      {"id": "bad-undo", "kind": "nu", "code": "1", "rollback": "if true {"},
      {"id": "srv", "kind": "server.create", "provider": "lcoal", "server": {"name": "x", "command": ["true"]}},
      {"id": "out", "kind": "file.write", "path": "../outside.txt", "content": "x"},
      {"id": "typo", "kind": "command", "runn": ["true"]}]})");
  Error e = error_of(doc, ctx);
  CHECK(e.code() == "provisioning::workflow::invalid");
  CHECK(std::string(e.what()) == "workflow 'w' from test.json has 6 problems");
  std::vector<std::string> codes;
  std::string messages;
  for (const Error& r : e.related()) {
    codes.push_back(r.code());
    messages += std::string(r.what()) + "\n";
  }
  CAPTURE(messages);
  // The parser's own problems first (the unknown field, the missing run), then the workspace's
  // in the order of the operations.
  CHECK(codes == std::vector<std::string>{"provisioning::workflow::unknown_field", "provisioning::workflow::missing_field",
                                          "provisioning::workflow::nu_parse", "provisioning::workflow::nu_parse",
                                          "provisioning::provider::unknown", "provisioning::operation::path_outside_workspace"});
  CHECK(messages.find("operation 'bad-code': `code` is not valid Nu: Incomplete math expression.") != std::string::npos);
  CHECK(messages.find("operation 'bad-undo': `rollback` is not valid Nu") != std::string::npos);
  CHECK(messages.find("operation 'srv': ") != std::string::npos);
  CHECK(messages.find("operation 'out': ") != std::string::npos);
  CHECK(messages.find("'ok'") == std::string::npos);

  // The same workflow without its problems passes, Nu code and all.
  const Datum good = json(R"({"name": "w", "operations": [
      {"id": "ok", "kind": "nu", "code": "ls | length", "rollback": "print undone"},
      {"id": "srv", "kind": "server.create", "server": {"name": "x", "command": ["true"]}},
      {"id": "in", "kind": "file.write", "path": "inside.txt", "content": "x"}]})");
  CHECK(preflight_workflow(good, "test.json", ctx).operations.size() == 3);
}

TEST_CASE("a workflow file read one operation at a time gets the same preflight", "[engine][preflight]") {
  TempDir dir;
  const Datum config = json(R"({"providers": {"default": "local"}, "limits": {"operations": 3}})");
  const PreflightContext ctx{dir.path(), &config, pinned_nu()};
  auto outcome = [](auto&& preflight) {
    try {
      const WorkflowSpec spec = preflight();
      std::string out = spec.name;
      for (const OperationSpec& op : spec.operations) out += "|" + op.id + ":" + op.kind;
      return out;
    } catch (const Error& e) {
      std::string out = e.code() + ": " + e.what();
      for (const Error& r : e.related()) out += "\n  " + r.code() + ": " + r.what() + " / " + r.help();
      return out;
    }
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"name": "w", "operations": [
      {"id": "ok", "kind": "nu", "code": "ls | length"},
      {"id": "bad-code", "kind": "nu", "code": "1 + "},
      {"id": "srv", "kind": "server.create", "provider": "lcoal", "server": {"name": "x", "command": ["true"]}}]})",
       "operation 'bad-code': `code` is not valid Nu"},
      {R"({"operations": [{"id": "out", "kind": "file.write", "path": "../outside.txt", "content": "x"},
      {"id": "typo", "kind": "command", "runn": ["true"]}], "name": "v"})",
       "provisioning::operation::path_outside_workspace: operation 'out'"},
      {R"({"name": "w", "operations": [{"id": "in", "kind": "file.write", "path": "in.txt", "content": "x"},
      {"id": "b", "kind": "command", "run": ["true"], "depends_on": ["in"]}]})",
       "w|in:file.write|b:command"},
      // Over the configuration's limit of 3 operations.
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["true"]},
      {"id": "b", "kind": "command", "run": ["true"]}, {"id": "c", "kind": "command", "run": ["true"]},
      {"id": "d", "kind": "command", "run": ["true"]}]})",
       "provisioning::limits::operations"}};
  for (const auto& [text, expected] : cases) {
    INFO(text);
    const std::string path = dir.write("w.json", text);
    WorkflowFile file = read_workflow_file(path, preflight_fields());
    REQUIRE(file.streamed);
    const std::string whole = outcome([&] { return preflight_workflow(load_workflow_file(path), path, ctx); });
    CHECK(outcome([&] { return preflight_workflow_file(std::move(file), path, ctx); }) == whole);
    CHECK(whole.find(expected) != std::string::npos);
  }
}
