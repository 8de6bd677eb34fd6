// Reading workflows: every field of every kind, every problem with its code and message, all
// problems reported together, TOML and JSON files.

#include "core/graph/workflow_parse.hpp"

#include <catch2/catch.hpp>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

constexpr int64_t kSec = 1'000'000'000;

Datum json(const std::string& text) { return parse_workflow_json(text, "test.json"); }

WorkflowSpec parse(const std::string& text) { return parse_workflow(json(text), "pipeline input"); }

/// The error parse_workflow throws for `doc`.
WorkflowError error_of_doc(const Datum& doc) {
  try {
    parse_workflow(doc, "pipeline input");
  } catch (const WorkflowError& e) {
    return e;
  }
  FAIL("the workflow was accepted");
  return WorkflowError("", "");
}

WorkflowError error_of(const std::string& text) { return error_of_doc(json(text)); }

/// The problems of an error: itself when alone, else its related errors.
std::vector<Error> problems(const WorkflowError& e) {
  if (e.related().empty()) return {e};
  return e.related();
}

std::vector<std::string> codes(const WorkflowError& e) {
  std::vector<std::string> out;
  for (const Error& p : problems(e)) out.push_back(p.code());
  return out;
}

/// The one problem `text` has: its code, message and help.
struct Problem {
  std::string code, message, help;
};

Problem only_problem(const std::string& text) {
  const WorkflowError e = error_of(text);
  INFO(e.what());
  REQUIRE(e.related().empty());
  CHECK(e.blame().kind == Blame::Kind::input);
  std::string code = e.code();
  code.erase(0, std::string("provisioning::workflow::").size());
  return {code, e.what(), e.help()};
}

/// A workflow named w with these operations (JSON text of a list's members).
std::string ops(const std::string& members) {
  return R"({"name": "w", "operations": [)" + members + "]}";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("workflow_kinds lists the six kinds", "[graph][parse]") {
  CHECK(workflow_kinds() == std::vector<std::string>{"command", "nu", "file.write", "config.set",
                                                     "server.create", "server.delete"});
}

TEST_CASE("parse_workflow reads every field of every kind", "[graph][parse]") {
  const WorkflowSpec w = parse(R"({
    "name": "everything",
    "settings": {
      "parallel": 3,
      "retry": {"attempts": 4, "backoff": "250ms", "max_backoff": "10s"},
      "timeout": "5m",
      "rollback_on_failure": false
    },
    "operations": [
      {"id": "cmd", "kind": "command", "run": ["make", "-j", 4], "env": {"CC": "gcc", "N": 2},
       "cwd": "src", "stdin": "", "rollback": ["make", "clean"],
       "retry": {"attempts": 2}, "timeout": "1.5s"},
      {"id": "nu.1", "kind": "nu", "code": "$in | length", "input": {"a": [1, 2]},
       "rollback": "rm x", "depends_on": ["cmd"]},
      {"id": "file:conf", "kind": "file.write", "path": "a/b.conf", "content": "x = 1\n",
       "mode": "0640", "depends_on": ["cmd", "nu.1", "cmd"]},
      {"id": "file_2", "kind": "file.write", "path": "c", "content": "", "mode": 420},
      {"id": "set-key", "kind": "config.set", "key": "providers.local.\"a.b\"", "value": {"x": 1}},
      {"id": "srv", "kind": "server.create", "provider": "local",
       "server": {"name": "web-1", "plan": "small"}},
      {"id": "srv-default", "kind": "server.create", "server": {"name": "web-2"}},
      {"id": "gone", "kind": "server.delete", "provider": "local", "server_id": "srv-123"}
    ]
  })");
  CHECK(w.name == "everything");
  CHECK(w.settings.parallel == 3);
  CHECK(w.settings.retry == RetryPolicy{4, Duration{250'000'000}, Duration{10 * kSec}});
  CHECK(w.settings.timeout == Duration{300 * kSec});
  CHECK_FALSE(w.settings.rollback_on_failure);

  REQUIRE(w.operations.size() == 8);
  const OperationSpec& cmd = w.operations[0];
  CHECK(cmd.id == "cmd");
  CHECK(cmd.kind == "command");
  CHECK(cmd.depends_on.empty());
  // A partial retry fills in from the settings.
  CHECK(cmd.retry == RetryPolicy{2, Duration{250'000'000}, Duration{10 * kSec}});
  CHECK(cmd.timeout == Duration{1'500'000'000});
  CHECK(*cmd.fields.find("run") == Datum(DatumList{"make", "-j", 4}));
  CHECK(*cmd.fields.find("cwd") == Datum("src"));

  CHECK(w.operations[1].id == "nu.1");
  CHECK(w.operations[1].depends_on == std::vector<std::string>{"cmd"});
  CHECK_FALSE(w.operations[1].retry);
  CHECK_FALSE(w.operations[1].timeout);
  CHECK(w.operations[2].depends_on == std::vector<std::string>{"cmd", "nu.1"});
  CHECK(*w.operations[3].fields.find("mode") == Datum(420));
  CHECK(w.operations[4].kind == "config.set");
  CHECK(w.operations[5].fields.find("server")->find("plan")->str() == "small");
  CHECK(w.operations[7].kind == "server.delete");

  // The whole record, in the order written.
  std::vector<std::string> keys;
  for (const auto& [k, v] : w.operations[7].fields.record()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"id", "kind", "provider", "server_id"});
}

TEST_CASE("parse_workflow fills defaults", "[graph][parse]") {
  const WorkflowSpec w = parse(ops(R"({"id": "a", "kind": "command", "run": ["true"]})"));
  CHECK(w.settings.parallel == 0);
  CHECK(w.settings.retry == RetryPolicy{});
  CHECK_FALSE(w.settings.timeout);
  CHECK(w.settings.rollback_on_failure);
  CHECK_FALSE(w.operations[0].retry);
  CHECK_FALSE(w.operations[0].timeout);
}

TEST_CASE("parse_workflow takes Nu values: durations, nulls, bare words", "[graph][parse]") {
  // What a Nu record becomes: durations are durations, `[true]` is a bool, absent columns null.
  DatumRecord settings{{"timeout", Duration{2 * kSec}},
                       {"retry", DatumRecord{{"backoff", Duration{kSec}}, {"attempts", nullptr}}}};
  DatumRecord a{{"id", "a"},
                {"kind", "command"},
                {"run", DatumList{true}},
                {"depends_on", nullptr},
                {"env", nullptr},
                {"timeout", Duration{3 * kSec}}};
  DatumRecord b{{"id", "b"},
                {"kind", "command"},
                {"run", DatumList{"sleep", 0.2}},
                {"depends_on", DatumList{"a"}},
                {"env", nullptr},
                {"timeout", nullptr}};
  const Datum doc(
      DatumRecord{{"name", "nu"}, {"settings", settings}, {"operations", DatumList{a, b}}});
  const WorkflowSpec w = parse_workflow(doc, "pipeline input");
  CHECK(w.settings.timeout == Duration{2 * kSec});
  CHECK(w.settings.retry == RetryPolicy{1, Duration{kSec}, Duration{30 * kSec}});
  CHECK(w.operations[0].timeout == Duration{3 * kSec});
  CHECK_FALSE(w.operations[1].timeout);
  CHECK(w.operations[1].depends_on == std::vector<std::string>{"a"});
}

TEST_CASE("one problem is thrown as itself", "[graph][parse][problems]") {
  const WorkflowError e = error_of(ops(R"({"id": "deploy", "kind": "command"})"));
  CHECK(e.code() == "provisioning::workflow::missing_field");
  CHECK(std::string(e.what()) == "operation 'deploy': missing field 'run'");
  CHECK(e.help() ==
        "a command operation needs 'run': a list of strings (the program and its "
        "arguments)");
  CHECK(e.related().empty());
  CHECK(e.blame().kind == Blame::Kind::input);
}

TEST_CASE("every problem is reported together", "[graph][parse][problems]") {
  const WorkflowError e = error_of(R"({
    "name": "release",
    "settings": {"parallel": 0, "paralel": 2},
    "operations": [
      {"id": "a", "kind": "command", "run": ["true"], "depends_on": ["c"]},
      {"id": "a", "kind": "comand", "run": ["true"]},
      {"id": "c", "kind": "command", "depends_on": ["a", "dpeloy"], "timout": "1s"},
      {"id": "deploy", "kind": "nu", "code": 5, "timeout": "soon"},
      {"id": "self", "kind": "nu", "code": "1", "depends_on": ["self"]}
    ]
  })");
  CHECK(e.code() == "provisioning::workflow::invalid");
  CHECK(std::string(e.what()) == "workflow 'release' from pipeline input has 11 problems");
  CHECK(e.blame().kind == Blame::Kind::input);
  CHECK(codes(e) == std::vector<std::string>{
                        "provisioning::workflow::bad_value",           // parallel 0
                        "provisioning::workflow::unknown_field",       // paralel
                        "provisioning::workflow::unknown_kind",        // comand
                        "provisioning::workflow::unknown_field",       // timout
                        "provisioning::workflow::missing_field",       // c has no run
                        "provisioning::workflow::wrong_type",          // code 5
                        "provisioning::workflow::bad_duration",        // soon
                        "provisioning::workflow::duplicate_id",        // a twice
                        "provisioning::workflow::unknown_dependency",  // dpeloy
                        "provisioning::workflow::self_dependency",     // self
                        "provisioning::workflow::cycle",               // a -> c -> a
                    });
  std::vector<std::string> messages;
  for (const Error& p : e.related()) {
    messages.push_back(p.what());
    CHECK(p.blame().kind == Blame::Kind::input);
  }
  CHECK(messages[0] == "workflow 'release': 'settings.parallel' must be at least 1, got 0");
  CHECK(messages[1] == "workflow 'release': unknown field 'settings.paralel'");
  CHECK(messages[2] == "operation 'a': unknown kind 'comand'");
  CHECK(messages[3] == "operation 'c': unknown field 'timout'");
  CHECK(messages[4] == "operation 'c': missing field 'run'");
  CHECK(messages[5] == "operation 'deploy': 'code' must be a non-empty string, got int");
  CHECK(messages[6] ==
        "operation 'deploy': timeout: 'soon' is not a duration: expected a number "
        "at 'soon'");
  CHECK(messages[7] == "operation 'a': the id is used by operations #1 and #2");
  CHECK(messages[8] ==
        "operation 'c': depends on 'dpeloy', which is not an operation of this "
        "workflow");
  CHECK(messages[9] == "operation 'self': depends on itself");
  CHECK(messages[10] == "dependency cycle: a -> c -> a");
  CHECK(e.related()[2].help() ==
        "did you mean command? kinds are command, nu, file.write, "
        "config.set, server.create and server.delete");
  CHECK(e.related()[3].help().rfind("did you mean timeout? ", 0) == 0);
  CHECK(e.related()[8].help() == "did you mean deploy?");
}

TEST_CASE("the e2e example: duplicate id, unknown kind, missing field",
          "[graph][parse][problems]") {
  const WorkflowError e = error_of(ops(R"(
      {"id": "a", "kind": "command", "run": ["true"], "depends_on": ["c"]},
      {"id": "a", "kind": "comand", "run": ["true"]},
      {"id": "c", "kind": "command", "depends_on": ["a"]})"));
  CHECK(e.code() == "provisioning::workflow::invalid");
  CHECK(codes(e) == std::vector<std::string>{"provisioning::workflow::unknown_kind",
                                             "provisioning::workflow::missing_field",
                                             "provisioning::workflow::duplicate_id",
                                             "provisioning::workflow::cycle"});
}

TEST_CASE("cycles name their path, each once", "[graph][parse][problems]") {
  Problem p = only_problem(ops(R"(
      {"id": "a", "kind": "command", "run": ["true"], "depends_on": ["c"]},
      {"id": "b", "kind": "command", "run": ["true"], "depends_on": ["a"]},
      {"id": "c", "kind": "command", "run": ["true"], "depends_on": ["b"]})"));
  CHECK(p.code == "cycle");
  CHECK(p.message == "dependency cycle: a -> b -> c -> a");
  CHECK(contains(p.help, "remove one of these dependencies"));

  const WorkflowError two = error_of(ops(R"(
      {"id": "x", "kind": "command", "run": ["true"], "depends_on": ["y"]},
      {"id": "y", "kind": "command", "run": ["true"], "depends_on": ["x"]},
      {"id": "p", "kind": "command", "run": ["true"], "depends_on": ["q"]},
      {"id": "q", "kind": "command", "run": ["true"], "depends_on": ["r"]},
      {"id": "r", "kind": "command", "run": ["true"], "depends_on": ["p", "x"]})"));
  REQUIRE(two.related().size() == 2);
  CHECK(std::string(two.related()[0].what()) == "dependency cycle: x -> y -> x");
  CHECK(std::string(two.related()[1].what()) == "dependency cycle: p -> r -> q -> p");
}

TEST_CASE("unknown fields suggest the nearest known field", "[graph][parse][problems]") {
  Problem p = only_problem(ops(R"({"id": "a", "kind": "command", "run": ["x"], "depnds_on": []})"));
  CHECK(p.code == "unknown_field");
  CHECK(p.message == "operation 'a': unknown field 'depnds_on'");
  CHECK(p.help ==
        "did you mean depends_on? a command operation takes id, kind, depends_on, retry, "
        "timeout, run, env, cwd, stdin, output and rollback");

  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "run": ["x"]})"));
  CHECK(p.message == "operation 'a': unknown field 'run'");
  CHECK(p.help ==
        "'run' belongs to command operations; a nu operation takes id, kind, "
        "depends_on, retry, timeout, code, input and rollback");

  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "color": "red"})"));
  CHECK(p.help.rfind("a nu operation takes id, kind", 0) == 0);

  p = only_problem(R"({"name": "w", "operatons": [], "operations": [
      {"id": "a", "kind": "nu", "code": "1"}]})");
  CHECK(p.message == "workflow 'w': unknown field 'operatons'");
  CHECK(p.help == "did you mean operations? a workflow takes name, settings, vars and operations");

  p = only_problem(R"({"name": "w", "settings": {"retry": {"attempt": 2}},
      "operations": [{"id": "a", "kind": "nu", "code": "1"}]})");
  CHECK(p.message == "workflow 'w': unknown field 'settings.retry.attempt'");
  CHECK(p.help.rfind("did you mean attempts? ", 0) == 0);

  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "retry": {"backof": "1s"}})"));
  CHECK(p.message == "operation 'a': unknown field 'retry.backof'");
  CHECK(p.help.rfind("did you mean backoff? ", 0) == 0);
}

TEST_CASE("unknown kinds suggest the nearest kind", "[graph][parse][problems]") {
  Problem p = only_problem(ops(R"({"id": "a", "kind": "file.wirte", "path": "x"})"));
  CHECK(p.code == "unknown_kind");
  CHECK(p.message == "operation 'a': unknown kind 'file.wirte'");
  CHECK(p.help.rfind("did you mean file.write? ", 0) == 0);
  p = only_problem(ops(R"({"id": "a", "kind": "docker", "image": "x"})"));
  CHECK(p.help ==
        "kinds are command, nu, file.write, config.set, server.create and "
        "server.delete");
}

TEST_CASE("missing fields are named with what they hold", "[graph][parse][problems]") {
  struct Case {
    const char* op;
    const char* message;
  };
  const Case cases[] = {
      {R"({"kind": "nu", "code": "1"})", "operation #1: missing field 'id'"},
      {R"({"id": "a", "code": "1"})", "operation 'a': missing field 'kind'"},
      {R"({"id": "a", "kind": "nu"})", "operation 'a': missing field 'code'"},
      {R"({"id": "a", "kind": "file.write", "content": ""})",
       "operation 'a': missing field 'path'"},
      {R"({"id": "a", "kind": "file.write", "path": "p"})",
       "operation 'a': missing field 'content'"},
      {R"({"id": "a", "kind": "config.set", "value": 1})", "operation 'a': missing field 'key'"},
      {R"({"id": "a", "kind": "config.set", "key": "k"})", "operation 'a': missing field 'value'"},
      {R"({"id": "a", "kind": "config.set", "key": "k", "value": null})",
       "operation 'a': missing field 'value'"},
      {R"({"id": "a", "kind": "server.create"})", "operation 'a': missing field 'server'"},
      {R"({"id": "a", "kind": "server.create", "server": {"plan": "x"}})",
       "operation 'a': missing field 'server.name'"},
      {R"({"id": "a", "kind": "server.delete", "provider": "p"})",
       "operation 'a': missing field 'server_id'"},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    const Problem p = only_problem(ops(c.op));
    CHECK(p.code == "missing_field");
    CHECK(p.message == c.message);
    CHECK_FALSE(p.help.empty());
  }
  Problem p = only_problem(R"({"operations": [{"id": "a", "kind": "nu", "code": "1"}]})");
  CHECK(p.message == "workflow from pipeline input: missing field 'name'");
  p = only_problem(R"({"name": "w"})");
  CHECK(p.message == "workflow 'w': missing field 'operations'");
}

TEST_CASE("wrong types say what was expected and what came", "[graph][parse][problems]") {
  struct Case {
    const char* op;
    const char* message;
  };
  const Case cases[] = {
      {R"({"id": 7, "kind": "nu", "code": "1"})", "operation #1: 'id' must be a string, got int"},
      {R"({"id": "a", "kind": ["nu"], "code": "1"})",
       "operation 'a': 'kind' must be a string, got list"},
      {R"({"id": "a", "kind": "command", "run": "make all"})",
       "operation 'a': 'run' must be a list of strings (the program and its arguments), got "
       "string"},
      {R"({"id": "a", "kind": "command", "run": ["make", {"x": 1}]})",
       "operation 'a': 'run[1]' must be a string, got record"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "rollback": "undo"})",
       "operation 'a': 'rollback' must be a list of strings (the program and its arguments), got "
       "string"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "env": ["A=1"]})",
       "operation 'a': 'env' must be a record of strings, got list"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "env": {"A": [1]}})",
       "operation 'a': 'env.A' must be a string, got list"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "cwd": 1})",
       "operation 'a': 'cwd' must be a non-empty string, got int"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "stdin": false})",
       "operation 'a': 'stdin' must be a string, got bool"},
      {R"({"id": "a", "kind": "nu", "code": "1", "rollback": ["x"]})",
       "operation 'a': 'rollback' must be a non-empty string, got list"},
      {R"({"id": "a", "kind": "file.write", "path": "p", "content": 1})",
       "operation 'a': 'content' must be a string, got int"},
      {R"({"id": "a", "kind": "file.write", "path": "p", "content": "", "mode": true})",
       "operation 'a': 'mode' must be permission bits: an octal string like \"0644\" or an int of "
       "at most 0o777, got bool"},
      {R"({"id": "a", "kind": "config.set", "key": 1, "value": 1})",
       "operation 'a': 'key' must be a dotted key like \"servers.web.plan\", got int"},
      {R"({"id": "a", "kind": "server.create", "server": "web"})",
       "operation 'a': 'server' must be a server spec: a record with at least a name, got string"},
      {R"({"id": "a", "kind": "server.create", "server": {"name": 1}})",
       "operation 'a': 'server.name' must be a non-empty string, got int"},
      {R"({"id": "a", "kind": "server.delete", "server_id": 12})",
       "operation 'a': 'server_id' must be a non-empty string, got int"},
      {R"({"id": "a", "kind": "nu", "code": "1", "depends_on": "b"})",
       "operation 'a': 'depends_on' must be a list of operation ids, got string"},
      {R"({"id": "a", "kind": "nu", "code": "1", "depends_on": [1]})",
       "operation 'a': 'depends_on[0]' must be an operation id, got int"},
      {R"({"id": "a", "kind": "nu", "code": "1", "retry": 3})",
       "operation 'a': 'retry' must be a record with attempts, backoff and max_backoff, got int"},
      {R"({"id": "a", "kind": "nu", "code": "1", "retry": {"attempts": "3"}})",
       "operation 'a': 'retry.attempts' must be an int of at least 1, got string"},
      {R"("just text")", "operation #1 must be a record with id and kind, got string"},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    const Problem p = only_problem(ops(c.op));
    CHECK(p.code == "wrong_type");
    CHECK(p.message == c.message);
  }
  const WorkflowError settings = error_of(R"({"name": "w", "settings": {"parallel": "4",
      "rollback_on_failure": 1}, "operations": [{"id": "a", "kind": "nu", "code": "1"}]})");
  REQUIRE(settings.related().size() == 2);
  CHECK(std::string(settings.related()[0].what()) ==
        "workflow 'w': 'settings.parallel' must be an int of at least 1, got string");
  CHECK(std::string(settings.related()[1].what()) ==
        "workflow 'w': 'settings.rollback_on_failure' must be a bool, got int");

  CHECK(only_problem(ops(R"({"id": "a", "kind": "command", "run": "make all"})")).help ==
        "no shell splits a string here: write [\"program\", \"arg\", …]");
  CHECK(only_problem(R"({"name": 1, "operations": [{"id": "a", "kind": "nu", "code": "1"}]})")
            .message == "workflow from pipeline input: 'name' must be a string, got int");
  CHECK(only_problem(R"({"name": "w", "operations": {"a": 1}})").message ==
        "workflow 'w': 'operations' must be a list of records, got record");
  CHECK(only_problem(R"({"name": "w", "settings": [], "operations": [
      {"id": "a", "kind": "nu", "code": "1"}]})")
            .message == "workflow 'w': 'settings' must be a record, got list");
  CHECK(only_problem(R"([1, 2])").message ==
        "workflow from pipeline input must be a record with name, settings and operations, got "
        "list");
}

TEST_CASE("bad values say what is wrong with them", "[graph][parse][problems]") {
  struct Case {
    const char* op;
    const char* message;
  };
  const Case cases[] = {
      {R"({"id": "a b", "kind": "nu", "code": "1"})",
       "operation 'a b': the id may only hold letters, digits and _ . : -"},
      {R"({"id": "", "kind": "nu", "code": "1"})",
       "operation '': the id may only hold letters, digits and _ . : -"},
      {R"({"id": "a", "kind": "command", "run": []})", "operation 'a': 'run' is empty"},
      {R"({"id": "a", "kind": "command", "run": ["", "x"]})",
       "operation 'a': 'run[0]', the program, is empty"},
      {R"({"id": "a", "kind": "command", "run": ["x"], "env": {"A=B": "1"}})",
       "operation 'a': 'env' has a variable name that is empty or holds '=': \"A=B\""},
      {R"({"id": "a", "kind": "nu", "code": ""})", "operation 'a': 'code' is empty"},
      {R"({"id": "a", "kind": "file.write", "path": "", "content": ""})",
       "operation 'a': 'path' is empty"},
      {R"({"id": "a", "kind": "file.write", "path": "p", "content": "", "mode": "0999"})",
       "operation 'a': 'mode' 0999 is not permission bits: an octal string like \"0644\" or an "
       "int of at most 0o777"},
      {R"({"id": "a", "kind": "file.write", "path": "p", "content": "", "mode": 512})",
       "operation 'a': 'mode' 512 is not permission bits: an octal string like \"0644\" or an int "
       "of at most 0o777"},
      {R"({"id": "a", "kind": "config.set", "key": "a..b", "value": 1})",
       "operation 'a': 'key' \"a..b\" is not a dotted key like \"servers.web.plan\""},
      {R"({"id": "a", "kind": "server.create", "server": {"name": ""}})",
       "operation 'a': 'server.name' is empty"},
      {R"({"id": "a", "kind": "nu", "code": "1", "retry": {"attempts": 0}})",
       "operation 'a': 'retry.attempts' must be at least 1, got 0"},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    const Problem p = only_problem(ops(c.op));
    CHECK(p.code == "bad_value");
    CHECK(p.message == c.message);
  }
  const Problem empty = only_problem(R"({"name": "w", "operations": []})");
  CHECK(empty.code == "bad_value");
  CHECK(empty.message == "workflow 'w': 'operations' is empty");
  CHECK(only_problem(R"({"name": "", "operations": [{"id": "a", "kind": "nu", "code": "1"}]})")
            .message == "workflow from pipeline input: 'name' is empty");

  // Modes that are fine.
  for (const char* mode : {R"("0644")", R"("644")", R"("0o600")", R"("7")", "420", "0"}) {
    INFO(mode);
    CHECK_NOTHROW(parse(ops(R"({"id": "a", "kind": "file.write", "path": "p", "content": "",
                             "mode": )" +
                            std::string(mode) + "}")));
  }
}

TEST_CASE("bad durations name the field and the accepted forms", "[graph][parse][problems]") {
  Problem p =
      only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "timeout": "5 minutes"})"));
  CHECK(p.code == "bad_duration");
  CHECK(p.message == "operation 'a': timeout: '5 minutes' has an unknown unit 'minutes'");
  CHECK(contains(p.help, "\"1.5s\", \"500ms\", \"5m\""));

  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "timeout": 5})"));
  CHECK(p.message ==
        "operation 'a': timeout: 5 is a bare int, and its unit would be a guess: "
        "write \"5s\", \"5ms\" or \"5m\"");
  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "timeout": "0s"})"));
  CHECK(p.message == "operation 'a': timeout: must be longer than 0s");
  p = only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "retry": {"backoff": "x"}})"));
  CHECK(p.message ==
        "operation 'a': retry.backoff: 'x' is not a duration: expected a number at "
        "'x'");
  p = only_problem(R"({"name": "w", "settings": {"retry": {"max_backoff": "1y"}},
      "operations": [{"id": "a", "kind": "nu", "code": "1"}]})");
  CHECK(p.message == "workflow 'w': settings.retry.max_backoff: '1y' has an unknown unit 'y'");
  p = only_problem(R"({"name": "w", "settings": {"timeout": "-1s"},
      "operations": [{"id": "a", "kind": "nu", "code": "1"}]})");
  CHECK(p.message ==
        "workflow 'w': settings.timeout: '-1s' has a sign; a duration is written "
        "without one");

  // A negative Nu duration.
  const Datum doc(DatumRecord{
      {"name", "w"},
      {"operations",
       DatumList{Datum(DatumRecord{
           {"id", "a"}, {"kind", "nu"}, {"code", "1"}, {"timeout", Duration{-kSec}}})}}});
  const WorkflowError e = error_of_doc(doc);
  CHECK(e.code() == "provisioning::workflow::bad_duration");
  CHECK(std::string(e.what()) == "operation 'a': timeout: -1s is negative");

  // Zero backoff is fine.
  CHECK(parse(ops(R"({"id": "a", "kind": "nu", "code": "1", "retry": {"backoff": "0s"}})"))
            .operations[0]
            .retry->backoff == Duration{0});
}

TEST_CASE("duplicate ids list every position", "[graph][parse][problems]") {
  const Problem p = only_problem(ops(R"(
      {"id": "a", "kind": "nu", "code": "1"}, {"id": "b", "kind": "nu", "code": "1"},
      {"id": "a", "kind": "nu", "code": "1"}, {"id": "a", "kind": "nu", "code": "1"})"));
  CHECK(p.code == "duplicate_id");
  CHECK(p.message == "operation 'a': the id is used by operations #1, #3 and #4");
  CHECK(p.help == "give each operation a unique id");
}

TEST_CASE("unknown dependencies suggest ids", "[graph][parse][problems]") {
  Problem p = only_problem(ops(R"(
      {"id": "build", "kind": "nu", "code": "1"},
      {"id": "ship", "kind": "nu", "code": "1", "depends_on": ["biuld"]})"));
  CHECK(p.code == "unknown_dependency");
  CHECK(p.message ==
        "operation 'ship': depends on 'biuld', which is not an operation of this "
        "workflow");
  CHECK(p.help == "did you mean build?");

  p = only_problem(ops(R"(
      {"id": "build", "kind": "nu", "code": "1"},
      {"id": "ship", "kind": "nu", "code": "1", "depends_on": ["zzzzzz"]})"));
  CHECK(p.help == "depends_on lists ids of this workflow's operations: build and ship");
}

TEST_CASE("repeated dependencies count once", "[graph][parse]") {
  const WorkflowSpec w = parse(ops(R"(
      {"id": "a", "kind": "nu", "code": "1"}, {"id": "b", "kind": "nu", "code": "1"},
      {"id": "c", "kind": "nu", "code": "1", "depends_on": ["b", "a", "b", "a", "b"]})"));
  CHECK(w.operations[2].depends_on == std::vector<std::string>{"b", "a"});

  const WorkflowError e = error_of(ops(R"(
      {"id": "a", "kind": "nu", "code": "1", "depends_on": ["x", "a", "x", "a"]})"));
  CHECK(codes(e) == std::vector<std::string>{"provisioning::workflow::unknown_dependency",
                                             "provisioning::workflow::self_dependency"});
}

TEST_CASE("self-dependency is its own problem, not also a cycle", "[graph][parse][problems]") {
  const Problem p =
      only_problem(ops(R"({"id": "a", "kind": "nu", "code": "1", "depends_on": ["a"]})"));
  CHECK(p.code == "self_dependency");
  CHECK(p.message == "operation 'a': depends on itself");
  CHECK(p.help == "remove 'a' from its depends_on");
}

TEST_CASE("load_workflow_file reads TOML", "[graph][parse][file]") {
  TempDir dir;
  const std::string path = dir.write("deploy.toml", R"(
name = "deploy"
[settings]
parallel = 2
timeout = "30s"
[settings.retry]
attempts = 3
backoff = "100ms"

[[operations]]
id = "b"
kind = "command"
run = ["echo", "b"]
depends_on = ["a"]

[[operations]]
id = "a"
kind = "file.write"
path = "out.txt"
content = "hi"
mode = "0640"
)");
  const WorkflowSpec w = parse_workflow(load_workflow_file(path), path);
  CHECK(w.name == "deploy");
  CHECK(w.settings.parallel == 2);
  CHECK(w.settings.timeout == Duration{30 * kSec});
  CHECK(w.settings.retry == RetryPolicy{3, Duration{100'000'000}, Duration{30 * kSec}});
  REQUIRE(w.operations.size() == 2);
  CHECK(w.operations[0].id == "b");
  CHECK(w.operations[0].depends_on == std::vector<std::string>{"a"});
  std::vector<std::string> keys;
  for (const auto& [k, v] : w.operations[1].fields.record()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"id", "kind", "path", "content", "mode"});
}

TEST_CASE("load_workflow_file reads JSON in the order written", "[graph][parse][file]") {
  TempDir dir;
  const std::string path = dir.write("w.JSON", R"({"operations": [
      {"kind": "config.set", "id": "z", "value": {"b": 1, "a": [true, null, 1.5, 18446744073709551615]},
       "key": "k"}], "name": "j"})");
  const Datum doc = load_workflow_file(path);
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.record()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"operations", "name"});
  const WorkflowSpec w = parse_workflow(doc, path);
  const Datum& value = *w.operations[0].fields.find("value");
  CHECK(value.record()[0].first == "b");
  CHECK(*value.find("a") == Datum(DatumList{true, nullptr, 1.5, 18446744073709551615.0}));
}

TEST_CASE("parse_workflow_json keeps a repeated key's first place and last value",
          "[graph][parse][file]") {
  const Datum d = parse_workflow_json(
      R"({"a": 1, "b": 2, "a": 3, "c": {"x": 1, "x": [], "x": 4}, "a": 5})", "t.json");
  CHECK(d == Datum(DatumRecord{{"a", 5}, {"b", 2}, {"c", DatumRecord{{"x", 4}}}}));
  std::string many = "{";
  for (int i = 0; i < 100; ++i)
    many += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  many += "\"k7\": \"again\"}";
  const Datum m = parse_workflow_json(many, "t.json");
  REQUIRE(m.record().size() == 100);
  CHECK(m.record()[7] == std::pair<std::string, Datum>{"k7", "again"});
  CHECK(m.record()[99] == std::pair<std::string, Datum>{"k99", 99});
  CHECK(parse_workflow_json("[1, -2, 2.5, \"s\", null, false, [], {}]", "t.json") ==
        Datum(DatumList{1, -2, 2.5, "s", nullptr, false, DatumList{}, DatumRecord{}}));
}

TEST_CASE("load_workflow_file errors", "[graph][parse][file]") {
  TempDir dir;
  auto error_loading = [](const std::string& path) {
    try {
      load_workflow_file(path);
    } catch (const WorkflowError& e) {
      return e;
    }
    FAIL("loaded " << path);
    return WorkflowError("", "");
  };

  SECTION("JSON syntax errors name line and column") {
    const std::string path =
        dir.write("bad.json", "{\n  \"name\": \"x\",\n  \"operations\": [,]\n}\n");
    const WorkflowError e = error_loading(path);
    CHECK(e.code() == "provisioning::workflow::parse");
    CHECK(std::string(e.what()).rfind("invalid JSON in " + path + " at line 3, column 18: ", 0) ==
          0);
    CHECK(contains(e.what(), "syntax error"));
    REQUIRE(e.position());
    CHECK(e.position()->path == path);
    CHECK(e.position()->line == 3);
    CHECK(e.position()->column == 18);
  }
  SECTION("JSON nested too deep") {
    const std::string path =
        dir.write("deep.json", std::string(100'000, '[') + std::string(100'000, ']'));
    const WorkflowError e = error_loading(path);
    CHECK(e.code() == "provisioning::workflow::parse");
    CHECK(std::string(e.what()) ==
          "invalid JSON in " + path + ": values nest deeper than 256 levels");
    CHECK(parse_workflow_json(std::string(256, '[') + std::string(256, ']'), "t.json").is_list());
  }
  SECTION("TOML syntax errors too") {
    const std::string path = dir.write("bad.toml", "name = \"x\"\noperations = [\n");
    const WorkflowError e = error_loading(path);
    CHECK(e.code() == "provisioning::workflow::parse");
    CHECK(std::string(e.what()).rfind("invalid TOML in " + path + " at line ", 0) == 0);
    REQUIRE(e.position());
    CHECK(e.position()->line >= 2);
  }
  SECTION("unknown extensions name the accepted ones") {
    const WorkflowError e = error_loading(dir.write("w.yaml", "name: x\n"));
    CHECK(e.code() == "provisioning::workflow::unknown_format");
    CHECK(contains(e.what(), "from its extension .yaml"));
    CHECK(e.help() == "workflow files end in .toml or .json");
    const WorkflowError none = error_loading(dir.write("Workflow", "{}"));
    CHECK(none.code() == "provisioning::workflow::unknown_format");
    CHECK(contains(none.what(), "(it has no extension)"));
    CHECK(error_loading(dir.mkdir("d.toml/x")).code() == "provisioning::workflow::unknown_format");
  }
  SECTION("missing and unreadable files") {
    const WorkflowError missing = error_loading(dir / "nope.toml");
    CHECK(missing.code() == "provisioning::workflow::not_found");
    CHECK(std::string(missing.what()) == "no workflow file at " + (dir / "nope.toml"));
    const WorkflowError directory = error_loading(dir.mkdir("a.json"));
    CHECK(directory.code() == "provisioning::workflow::read");
    CHECK(contains(directory.what(), "not a regular file"));
  }
}

namespace {

/// The spec as text, every field of every operation included, for comparing two specs.
std::string spec_text(const WorkflowSpec& w) {
  std::string out = w.name + "|" + std::to_string(w.settings.parallel) + "|" +
                    std::to_string(w.settings.retry.attempts) + "|" +
                    std::to_string(w.settings.rollback_on_failure) + "\n";
  for (const OperationSpec& op : w.operations) {
    out += op.id + "|" + op.kind + "|" + (op.retry ? std::to_string(op.retry->attempts) : "-") +
           "|" + (op.timeout ? std::to_string(op.timeout->nanos) : "-") + "|" +
           to_display(op.fields) + "|";
    for (const std::string& d : op.depends_on) out += d + ",";
    out += "\n";
  }
  return out;
}

/// parse_workflow's error for `doc`, or its spec as text.
std::string outcome(const Datum& doc) {
  try {
    return spec_text(parse_workflow(doc, "pipeline input"));
  } catch (const WorkflowError& e) {
    std::string out = e.code() + ": " + e.what() + " / " + e.help();
    for (const Error& r : e.related())
      out += "\n  " + r.code() + ": " + r.what() + " / " + r.help();
    return out;
  }
}

std::string outcome_moved(Datum doc) {
  try {
    return spec_text(parse_workflow(std::move(doc), "pipeline input"));
  } catch (const WorkflowError& e) {
    std::string out = e.code() + ": " + e.what() + " / " + e.help();
    for (const Error& r : e.related())
      out += "\n  " + r.code() + ": " + r.what() + " / " + r.help();
    return out;
  }
}

}  // namespace

TEST_CASE("parse_workflow gives the same spec and errors whether it copies or moves",
          "[graph][parse]") {
  const std::vector<std::string> texts = {
      R"({"name": "w", "settings": {"parallel": 2, "retry": {"attempts": 3}}, "operations": [
          {"id": "a", "kind": "command", "run": ["true"], "env": {"X": "1"}, "timeout": "2s"},
          {"id": "b", "kind": "nu", "code": "1 + 1", "depends_on": ["a", "a"], "retry": {"attempts": 5}},
          {"id": "c", "kind": "file.write", "path": "x", "content": "y", "depends_on": ["b", "a"]}]})",
      R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": "true"},
          {"id": "a", "kind": "comand"}, {"id": "bad id", "kind": "nu"}, 5,
          {"id": "d", "kind": "command", "run": ["x"], "depends_on": ["nope", "d"]}]})",
      R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["x"], "depends_on": ["b"]},
          {"id": "b", "kind": "command", "run": ["x"], "depends_on": ["a"]}]})",
      R"({"name": "w", "operations": []})",
      R"([1, 2])",
  };
  for (const std::string& text : texts) {
    INFO(text);
    const Datum doc = json(text);
    CHECK(outcome_moved(doc) == outcome(doc));
  }
}

TEST_CASE("a JSON workflow reads the same as the TOML one", "[graph][parse][file]") {
  // The example deployment, written as JSON by nlohmann from the TOML's document.
  const Datum toml =
      load_workflow_file(std::string(PROV_SOURCE_DIR) + "/examples/workflows/deploy.toml");
  TempDir dir;
  const std::string path = dir.write("deploy.json", encode_json(toml));
  const Datum from_json = load_workflow_file(path);
  CHECK(from_json == toml);
  CHECK(outcome(from_json) == outcome(toml));
}

TEST_CASE("workflows over the limits are refused before they are read", "[graph][parse][limits]") {
  SECTION("limits given by the caller (parse_workflow checks this process's own the same way)") {
    Limits small;
    small.operations = 1;
    small.depth = 4;
    const Datum two = json(ops(R"({"id": "a", "kind": "command", "run": ["true"]},
                                   {"id": "b", "kind": "command", "run": ["true"]})"));
    CHECK_NOTHROW(parse_workflow(two, "w.json"));
    CHECK_THROWS_WITH(check_workflow_limits(two, "w.json", small), Catch::Contains("2 operations"));
    const Datum deep = json(ops(R"({"id": "a", "kind": "nu", "code": "$in", "input": {"x": [[1]]}})"));
    CHECK_THROWS_WITH(check_workflow_limits(deep, "w.json", small),
                      Catch::Contains("limit of 4 levels") && Catch::EndsWith("at operations.0.input.x"));
  }
}

namespace {

/// What a plan needs of a spec, as text: settings, and each operation's id, kind, retry,
/// timeout, dependencies (written and implicit), and its `output` field.
std::string plan_text(const WorkflowSpec& w) {
  std::string out = w.name + "|" + std::to_string(w.settings.parallel) + "|" +
                    std::to_string(w.settings.retry.attempts) + "|" + std::to_string(w.settings.retry.backoff.nanos) +
                    "|" + to_display(w.vars) + "\n";
  for (const OperationSpec& op : w.operations) {
    const Datum* output = op.fields.is_record() ? op.fields.find("output") : nullptr;
    out += op.id + "|" + op.kind + "|" +
           (op.retry ? std::to_string(op.retry->attempts) + "/" + std::to_string(op.retry->backoff.nanos) : "-") + "|" +
           (op.timeout ? std::to_string(op.timeout->nanos) : "-") + "|" + (output ? to_display(*output) : "-") + "|";
    for (const std::string& d : op.depends_on) out += d + ",";
    out += "|";
    for (const std::string& d : op.implicit_deps) out += d + ",";
    out += "\n";
  }
  return out;
}

template <class Parse>
std::string outcome_of(Parse&& parse) {
  try {
    Dag dag;
    WorkflowSpec spec = parse(dag);
    std::string levels;
    for (const std::vector<size_t>& d : dag.deps) levels += std::to_string(d.size()) + ",";
    return plan_text(spec) + levels;
  } catch (const Error& e) {
    std::string out = e.code() + ": " + e.what() + " / " + e.help();
    for (const Error& r : e.related()) out += "\n  " + r.code() + ": " + r.what() + " / " + r.help();
    return out;
  }
}

}  // namespace

TEST_CASE("a workflow file read one operation at a time gives the same spec and errors", "[graph][parse][file]") {
  struct Case {
    std::string text;
    bool streamed;  ///< whether the fast reader takes it one operation at a time
  };
  const std::vector<Case> cases = {
      {R"({"name": "w", "settings": {"parallel": 2, "retry": {"attempts": 3}}, "operations": [
          {"id": "a", "kind": "command", "run": ["true"], "env": {"X": "1"}, "timeout": "2s"},
          {"id": "b", "kind": "nu", "code": "1 + 1", "depends_on": ["a", "a"], "retry": {"attempts": 5}},
          {"id": "c", "kind": "file.write", "path": "x", "content": "y", "depends_on": ["b", "a"]}]})",
       true},
      // Settings and vars after the operations: an operation's retry is over the workflow's.
      {R"({"operations": [
          {"id": "a", "kind": "command", "run": ["echo", "{{vars.v}}"], "output": "json", "retry": {"backoff": "1s"}},
          {"id": "b", "kind": "command", "run": ["echo", "{{ops.a.out.x}}"]},
          {"id": "c", "kind": "nu", "code": "{{ops.b.out}}", "retry": {"attempts": 2}}],
          "name": "late", "settings": {"retry": {"attempts": 4, "backoff": "3s"}}, "vars": {"v": 1}})",
       true},
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": "true"},
          {"id": "a", "kind": "comand"}, {"id": "bad id", "kind": "nu"}, 5,
          {"id": "d", "kind": "command", "run": ["x"], "depends_on": ["nope", "d"]}]})",
       true},
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["x"], "depends_on": ["b"]},
          {"id": "b", "kind": "command", "run": ["x"], "depends_on": ["a"]}]})",
       true},
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["{{ops.zz.out}}", "{{vars.nope}}"]},
          {"id": "b", "kind": "command", "run": ["{{ops.a.out.x}}", "{{oops"]}]})",
       true},
      {R"({"operations": [{"id": "a", "kind": "command", "run": ["x"]}], "nmae": "w", "settings": {"paralel": 0},
          "vars": 3})",
       true},
      {R"({"name": "w", "operations": []})", true},
      {R"({"name": "w", "operations": "none"})", true},
      {R"({"name": "w"})", true},
      {R"([1, 2])", false},
      // What the fast reader leaves to nlohmann: a repeated key, a number beyond int64.
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["x"]}], "name": "v"})", false},
      {R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["x"], "n": 12345678901234567890}]})",
       false},
  };
  TempDir dir;
  for (const Case& c : cases) {
    INFO(c.text);
    const std::string path = dir.write("w.json", c.text);
    WorkflowFile file = read_workflow_file(path);
    CHECK((file.streamed != nullptr) == c.streamed);
    const std::string whole =
        outcome_of([&](Dag& dag) { return parse_workflow(load_workflow_file(path), path, &dag); });
    CHECK(outcome_of([&](Dag& dag) { return parse_workflow_file(std::move(file), path, &dag); }) == whole);
  }

  SECTION("settings after the operations: each operation's retry is over the workflow's") {
    // Both paths share this code, so the comparison above cannot catch it: the values are checked.
    const std::string path = dir.write("late.json", R"({"operations": [
        {"id": "a", "kind": "command", "run": ["x"], "retry": {"backoff": "1s"}},
        {"id": "b", "kind": "command", "run": ["x"]},
        {"id": "c", "kind": "command", "run": ["x"], "retry": {"attempts": 2}}],
        "name": "late", "settings": {"retry": {"attempts": 4, "backoff": "3s"}}})");
    for (const bool streamed : {true, false}) {
      INFO("streamed " << streamed);
      const WorkflowSpec w = streamed ? parse_workflow_file(read_workflow_file(path), path)
                                      : parse_workflow(load_workflow_file(path), path);
      REQUIRE(w.operations.size() == 3);
      CHECK(w.settings.retry.attempts == 4);
      CHECK(w.settings.retry.backoff.nanos == 3'000'000'000);
      REQUIRE(w.operations[0].retry);
      CHECK(w.operations[0].retry->attempts == 4);
      CHECK(w.operations[0].retry->backoff.nanos == 1'000'000'000);
      CHECK_FALSE(w.operations[1].retry);
      REQUIRE(w.operations[2].retry);
      CHECK(w.operations[2].retry->attempts == 2);
      CHECK(w.operations[2].retry->backoff.nanos == 3'000'000'000);
    }
  }

  SECTION("a syntax error is the same error") {
    const std::string path = dir.write("bad.json", "{\"name\": \"w\",\n \"operations\": [{\"id\": 1,}]}");
    std::string a, b;
    try {
      load_workflow_file(path);
    } catch (const WorkflowError& e) {
      a = e.what();
    }
    try {
      read_workflow_file(path);
    } catch (const WorkflowError& e) {
      b = e.what();
    }
    CHECK(a.find("at line 2, column ") != std::string::npos);
    CHECK(a == b);
  }

  SECTION("of each operation's record only the fields asked for are kept") {
    const std::string path = dir.write("keep.json", R"({"name": "w", "operations": [
        {"id": "a", "kind": "command", "run": ["x"]},
        {"id": "b", "kind": "file.write", "path": "p", "content": "big"},
        {"id": "c", "kind": "command", "run": ["x"], "output": "json"}, 7]})");
    const WorkflowFile file = read_workflow_file(path, {"path"});
    REQUIRE(file.streamed);
    CHECK(file.operation_count() == 4);
    const std::vector<const Datum*> records = file.operation_records();
    REQUIRE(records.size() == 4);
    CHECK(records[0] == nullptr);
    REQUIRE(records[1]);
    CHECK(*records[1] == Datum(DatumRecord{{"id", "b"}, {"kind", "file.write"}, {"path", "p"}}));
    REQUIRE(records[2]);
    CHECK(*records[2] == Datum(DatumRecord{{"id", "c"}, {"kind", "command"}, {"output", "json"}}));
    CHECK(records[3] == nullptr);
  }

  SECTION("over the limits it is read again whole, and refused the same way") {
    Limits small;
    small.operations = 1;
    small.depth = 5;
    const std::string path = dir.write("big.json", R"({"name": "w", "operations": [
        {"id": "a", "kind": "nu", "code": "$in", "input": {"x": [1]}}, {"id": "b", "kind": "command", "run": ["x"]}]})");
    WorkflowFile file = read_workflow_file(path);
    CHECK(file.depth == 5);
    CHECK(file.exceeds(small));
    small.operations = 2;
    CHECK_FALSE(file.exceeds(small));
    small.depth = 4;
    CHECK(file.exceeds(small));
    file.document.set("name", "renamed");
    const Datum whole = whole_document(std::move(file));
    CHECK(whole.find("name")->str() == "renamed");
    CHECK(whole.find("operations")->list().size() == 2);
  }
}
