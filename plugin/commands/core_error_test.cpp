// Core errors as Nu sees them: the code, help and label survive, and text that is not UTF-8
// (a message quoting a file's bytes) is made valid, or Nushell could not decode the answer.

#include "plugin/commands/core_error.hpp"

#include <catch2/catch.hpp>

#include "core/support/datum_json.hpp"

using namespace prov::plugin;

TEST_CASE("core errors keep their code and help, and their text becomes valid UTF-8", "[core_error]") {
  Signature sig;
  EvaluatedCall call;
  call.head = Span{3, 7};
  const prov::WorkflowError e("provisioning::workflow::parse", "invalid JSON: last read '\"w\xff\xfe' and caf\xc3\xa9",
                              "fix \xc3 it", prov::Blame::input());
  const LabeledError out = to_labeled_error(e, sig, call, Span{});
  CHECK(out.code == "provisioning::workflow::parse");
  CHECK(prov::is_valid_utf8(out.msg));
  CHECK(out.msg == "invalid JSON: last read '\"w\xEF\xBF\xBD\xEF\xBF\xBD' and caf\xc3\xa9");
  REQUIRE(out.help);
  CHECK(*out.help == "fix \xEF\xBF\xBD it");
  REQUIRE(out.labels.size() == 1);
  CHECK(out.labels[0].span.start == 3);
}
