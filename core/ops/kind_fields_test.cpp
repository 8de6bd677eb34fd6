// The kinds' declaration: one list that the parser, validation and the OpKinds agree on.

#include "core/ops/kind_fields.hpp"

#include <catch2/catch.hpp>

#include "core/graph/workflow_parse.hpp"
#include "core/ops/op_kind.hpp"
#include "core/support/error.hpp"

using namespace prov;

TEST_CASE("every declared kind has an OpKind, and every OpKind is declared", "[ops][kinds]") {
  std::vector<std::string> declared;
  for (const KindDecl& k : kind_decls()) {
    declared.emplace_back(k.name);
    REQUIRE(find_kind(k.name) != nullptr);
    CHECK(find_kind(k.name)->name() == k.name);
  }
  CHECK(workflow_kinds() == declared);
  std::vector<std::string> names;
  for (std::string_view n : kind_names()) names.emplace_back(n);
  CHECK(names == declared);
  CHECK(kind_synopsis(*find_kind_decl("command")) == "command (run*, env, cwd, stdin, output, rollback)");
}

TEST_CASE("what the parser accepts, each kind's validation accepts, and the reverse for problems",
          "[ops][kinds]") {
  // One operation of each kind with only its required fields, and one with every field: both
  // parse, and validate as the parser read them (server.create without a provider included).
  const Datum doc = parse_workflow_json(R"({"name": "all", "operations": [
      {"id": "c", "kind": "command", "run": ["true"]},
      {"id": "c2", "kind": "command", "run": ["true"], "env": {"A": "1"}, "cwd": "x", "stdin": "in", "rollback": ["true"]},
      {"id": "n", "kind": "nu", "code": "1"},
      {"id": "n2", "kind": "nu", "code": "1", "input": {"a": 1}, "rollback": "2"},
      {"id": "f", "kind": "file.write", "path": "a", "content": ""},
      {"id": "f2", "kind": "file.write", "path": "a", "content": "x", "mode": "0600"},
      {"id": "k", "kind": "config.set", "key": "a.b", "value": 1},
      {"id": "s", "kind": "server.create", "server": {"name": "x"}},
      {"id": "s2", "kind": "server.create", "provider": "local", "server": {"name": "x"}},
      {"id": "d", "kind": "server.delete", "server_id": "x"}]})",
                                             "kinds.json");
  const WorkflowSpec spec = parse_workflow(doc, "kinds.json");
  for (const OperationSpec& op : spec.operations) {
    CAPTURE(op.id);
    CHECK_NOTHROW(find_kind(op.kind)->validate(op));
  }
  // A field of the wrong type: both refuse it, with the same code.
  OperationSpec bad = spec.operations[0];
  bad.fields.set("run", Datum("true"));
  try {
    find_kind("command")->validate(bad);
    FAIL("validate accepted a string run");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::wrong_type");
  }
  OperationSpec missing = spec.operations[4];
  missing.fields = Datum(DatumRecord{{"id", Datum("f")}, {"kind", Datum("file.write")}, {"path", Datum("a")}});
  try {
    find_kind("file.write")->validate(missing);
    FAIL("validate accepted a file.write without content");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::missing_field");
  }
}
