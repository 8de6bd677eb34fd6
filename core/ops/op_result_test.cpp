// The tail of an operation's output that failure events carry.

#include "core/ops/op_result.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("output_tail keeps the last lines within its bounds", "[ops]") {
  CHECK(output_tail("") == "");
  CHECK(output_tail("one\ntwo\n") == "one\ntwo");
  std::string many;
  for (int i = 1; i <= 30; ++i) many += "line " + std::to_string(i) + "\n";
  const std::string t = output_tail(many);
  CHECK(t.rfind("line 11\n", 0) == 0);  // the last 20 lines
  CHECK(t.substr(t.size() - 7) == "line 30");
  const std::string long_line(5000, 'x');
  const std::string cut = output_tail("start\n" + long_line + "\nend\n");
  CHECK(cut.rfind("…", 0) == 0);  // cut at the byte bound, and says so
  CHECK(cut.size() <= kOutputTailBytes + 3);
  CHECK(cut.substr(cut.size() - 3) == "end");
  // A multi-byte character cut in half is dropped, not left broken.
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "é";
  const std::string a = output_tail(accents);
  CHECK(a.substr(3, 2) == "é");
}
