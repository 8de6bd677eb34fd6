// References in operation fields: finding them, resolving them with their types, and the
// static checks that refuse what cannot resolve (with did-you-mean), through parse_workflow.

#include "core/graph/references.hpp"

#include <catch2/catch.hpp>

#include "core/graph/plan.hpp"
#include "core/graph/workflow_parse.hpp"

using namespace prov;

namespace {

Datum json(const std::string& text) { return parse_workflow_json(text, "test.json"); }

/// Every problem parse_workflow reports for `text`, as "code: message (help)".
std::vector<std::string> problems_of(const std::string& text) {
  try {
    parse_workflow(json(text), "pipeline input");
  } catch (const WorkflowError& e) {
    std::vector<std::string> out;
    std::vector<Error> list = e.related().empty() ? std::vector<Error>{e} : e.related();
    for (const Error& x : list) out.push_back(x.code() + ": " + x.what() + " (" + x.help() + ")");
    return out;
  }
  return {};
}

/// A lookup that answers ops.a.out with {ports: [8080, 8081], name: "web"} and vars.n with 3.
Datum lookup(const Reference& r) {
  if (r.root == "vars" && r.path == KeyPath{"n"}) return int64_t{3};
  if (r.root == "ops" && r.path.size() >= 2 && r.path[0] == "a") {
    if (r.path[1] == "exit_code") return int64_t{0};
    Datum out(DatumRecord{{"ports", Datum(DatumList{int64_t{8080}, int64_t{8081}})}, {"name", Datum("web")}});
    return value_at(out, r.path, 2, r, "test");
  }
  throw WorkflowError("provisioning::workflow::bad_reference", "no " + r.text);
}

}  // namespace

TEST_CASE("find_references lists placeholders with their fields", "[references]") {
  const Datum fields = json(R"({"id": "b", "kind": "command", "depends_on": ["{{ops.x.out}}"],
                                "run": ["echo", "{{ops.a.out.ports.0}}", "port {{ vars.n }}!"],
                                "env": {"A": "\\{{ops.z.out}}"}})");
  const std::vector<FieldReference> refs = find_references(fields, "operation 'b'");
  REQUIRE(refs.size() == 2);  // depends_on is not looked into; an escaped {{ is text
  CHECK(refs[0].field == "run.1");
  CHECK(refs[0].ref.root == "ops");
  CHECK(refs[0].ref.path == KeyPath{"a", "out", "ports", "0"});
  CHECK(refs[1].field == "run.2");
  CHECK(refs[1].ref.root == "vars");
  CHECK(refs[1].ref.text == "vars.n");
}

TEST_CASE("a whole placeholder keeps its type, text gets text", "[references]") {
  const Datum fields = json(R"({"id": "b", "kind": "nu", "input": "{{ops.a.out.ports}}",
                                "port": "{{ops.a.out.ports.1}}", "url": "http://h:{{ops.a.out.ports.0}}/{{vars.n}}",
                                "all": "x={{ops.a.out}}", "lit": "\\{{ops.a.out}}", "code": "{{ops.a.exit_code}}"})");
  const Datum r = resolve_references(fields, lookup, "operation 'b'");
  CHECK(*r.find("input") == Datum(DatumList{int64_t{8080}, int64_t{8081}}));
  CHECK(*r.find("port") == Datum(int64_t{8081}));
  CHECK(*r.find("url") == Datum("http://h:8080/3"));
  CHECK(*r.find("all") == Datum(R"(x={"ports":[8080,8081],"name":"web"})"));
  CHECK(*r.find("lit") == Datum("{{ops.a.out}}"));
  CHECK(*r.find("code") == Datum(int64_t{0}));
}

TEST_CASE("value_at names the missing member with did-you-mean", "[references]") {
  const Datum fields = json(R"({"x": "{{ops.a.out.nmae}}", "y": "{{ops.a.out.ports.7}}"})");
  try {
    resolve_references(Datum(DatumRecord{{"x", *fields.find("x")}}), lookup, "operation 'b'");
    FAIL("resolved");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::bad_reference");
    CHECK(std::string(e.what()).find("has no member 'nmae'") != std::string::npos);
    CHECK(e.help() == "did you mean name?");
  }
  try {
    resolve_references(Datum(DatumRecord{{"y", *fields.find("y")}}), lookup, "operation 'b'");
    FAIL("resolved");
  } catch (const WorkflowError& e) {
    CHECK(std::string(e.what()).find("is a list of 2, with no member '7'") != std::string::npos);
  }
}

TEST_CASE("malformed placeholders are refused naming the field", "[references]") {
  CHECK_THROWS_WITH(find_references(json(R"({"run": ["a", "{{ops.a.out"]})"), "operation 'b'"),
                    Catch::Contains("operation 'b': field 'run.1' has a placeholder with no closing }}"));
  CHECK_THROWS_WITH(find_references(json(R"({"run": ["{{ }}"]})"), "operation 'b'"),
                    Catch::Contains("empty placeholder"));
}

TEST_CASE("an alias maps a root onto operations' results", "[references]") {
  const std::vector<RootAlias> aliases = {{"servers", "ops", "out"}};
  const auto refs = find_references(json(R"({"url": "{{servers.a.ports.0}}"})"), "server 'web'", aliases);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].ref.root == "ops");
  CHECK(refs[0].ref.path == KeyPath{"a", "out", "ports", "0"});
  CHECK(resolve_references(json(R"({"url": "{{servers.a.ports.0}}"})"), lookup, "w", aliases) ==
        json(R"({"url": 8080})"));
}

TEST_CASE("a reference to an operation is an implicit dependency", "[references]") {
  Dag dag;
  const WorkflowSpec spec = parse_workflow(json(R"({"name": "w", "operations": [
      {"id": "b", "kind": "command", "run": ["echo", "{{ops.a.out}}", "{{ops.a.exit_code}}"]},
      {"id": "a", "kind": "command", "run": ["date"]},
      {"id": "c", "kind": "command", "run": ["echo", "{{ops.b.out}}"], "depends_on": ["b"]}]})"),
                                           "pipeline input", &dag);
  CHECK(spec.operations[0].implicit_deps == std::vector<std::string>{"a"});
  CHECK(spec.operations[2].implicit_deps.empty());  // written already
  const Plan plan = make_plan(spec, dag);
  CHECK(plan.order == std::vector<size_t>{1, 0, 2});
  const PlanStep row = plan_step(spec, dag, plan, 1);
  CHECK(row.id == "b");
  CHECK(row.depends_on == std::vector<std::string>{"a"});
  CHECK(row.implicit == std::vector<std::string>{"a"});
}

TEST_CASE("references that cannot resolve are refused before anything runs", "[references]") {
  const auto p = problems_of(R"({"name": "w", "vars": {"port": 80}, "operations": [
      {"id": "mk", "kind": "command", "run": ["date"]},
      {"id": "w", "kind": "file.write", "path": "a.txt", "content": "x"},
      {"id": "j", "kind": "command", "run": ["date"], "output": "json"},
      {"id": "use", "kind": "command", "run": ["echo", "{{ops.mj.out}}", "{{ops.w.out.nope}}", "{{vars.prot}}",
        "{{ops.mk.out.x}}", "{{ops.mk.oot}}", "{{opps.mk.out}}", "{{ops.j.out.any.thing}}", "{{ops.w.out.sha256}}",
        "{{ops.use.out}}", "{{ops.w.exit_code}}"]}]})");
  REQUIRE(p.size() == 8);
  CHECK(p[0] ==
        "provisioning::workflow::bad_reference: operation 'use': field 'run.1': {{ops.mj.out}} names an "
        "operation that is not in this workflow (did you mean mk?)");
  CHECK(p[1] ==
        "provisioning::workflow::bad_reference: operation 'use': field 'run.2': {{ops.w.out.nope}} reads "
        "'nope', which the out of a file.write operation does not have (it has path, bytes or sha256)");
  CHECK(p[2] ==
        "provisioning::workflow::bad_reference: operation 'use': field 'run.3': {{vars.prot}} names a "
        "variable that is not set (did you mean port?)");
  CHECK(p[3].find("{{ops.mk.out.x}} reads a member of the out of command operation 'mk', which is text (set "
                  "output = \"json\" on 'mk'") != std::string::npos);
  CHECK(p[4].find("{{ops.mk.oot}} names 'oot', which a result does not have (did you mean out?)") != std::string::npos);
  CHECK(p[5].find("{{opps.mk.out}} has an unknown root 'opps' (did you mean ops?)") != std::string::npos);
  CHECK(p[6].find("{{ops.use.out}} references the operation itself") != std::string::npos);
  CHECK(p[7].find("{{ops.w.exit_code}} asks for an exit_code, which a file.write operation does not have") !=
        std::string::npos);
}

TEST_CASE("a reference cycle is refused as a cycle", "[references]") {
  const auto p = problems_of(R"({"name": "w", "operations": [
      {"id": "a", "kind": "command", "run": ["echo", "{{ops.b.out}}"]},
      {"id": "b", "kind": "command", "run": ["echo", "{{ops.a.out}}"]}]})");
  REQUIRE(p.size() == 1);
  CHECK(p[0].rfind("provisioning::workflow::cycle", 0) == 0);
  CHECK(p[0].find("a -> b -> a") != std::string::npos);
}

TEST_CASE("a whole placeholder passes a typed field's check; output takes text or json", "[references]") {
  CHECK(problems_of(R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["date"]},
      {"id": "f", "kind": "file.write", "path": "x", "content": "y", "mode": "{{ops.a.out}}"}]})")
            .empty());
  const auto p = problems_of(
      R"({"name": "w", "operations": [{"id": "a", "kind": "command", "run": ["date"], "output": "yaml"}]})");
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("'output' \"yaml\" is not \"text\" or \"json\"") != std::string::npos);
}

TEST_CASE("vars must be a record", "[references]") {
  const auto p =
      problems_of(R"({"name": "w", "vars": 3, "operations": [{"id": "a", "kind": "command", "run": ["date"]}]})");
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("'vars' must be a record of variables") != std::string::npos);
}
