#include "core/support/nearest.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("edit_distance counts insertions, deletions, substitutions and swaps", "[nearest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("timeout", "timeout") == 0);
  CHECK(edit_distance("timeout", "timout") == 1);    // deletion
  CHECK(edit_distance("timout", "timeout") == 1);    // insertion
  CHECK(edit_distance("timeout", "timeoat") == 1);   // substitution
  CHECK(edit_distance("timeout", "timoeut") == 1);   // adjacent swap
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("local", "docstore") == 6);
}

TEST_CASE("nearest_names keeps close names, nearest first, at most the limit", "[nearest]") {
  const std::vector<std::string> keys = {
      "providers.local.timer",      // 3 edits
      "providers.local.log_dir",    // 7 edits: too far
      "providers.lokal.timeout",    // 2 edits
      "providers.local",            // 7 edits: too far
      "providers.locale.timeouts",  // 3 edits
      "providers.local.timeout",    // 1 edit
  };
  CHECK(nearest_names("providers.local.timout", keys) ==
        std::vector<std::string>{"providers.local.timeout", "providers.lokal.timeout",
                                 "providers.local.timer"});
  CHECK(nearest_names("providers.local.timout", keys, 1) ==
        std::vector<std::string>{"providers.local.timeout"});
  CHECK(nearest_names("zzz", keys).empty());
  // The exact name is not a suggestion for itself.
  CHECK(nearest_names("workflow.parallel", {"workflow.parallel"}).empty());
  // Short names still allow one edit, not two.
  CHECK(nearest_names("ab", {"ac", "xy"}) == std::vector<std::string>{"ac"});
  // "parallels" is 2 edits away, and 9 / 4 allows 2.
  CHECK(nearest_names("prallel", {"retry", "parallels", "parallel"}) ==
        std::vector<std::string>{"parallel", "parallels"});
}

TEST_CASE("join_alternatives reads as a sentence", "[nearest]") {
  CHECK(join_alternatives({}) == "");
  CHECK(join_alternatives({"a"}) == "a");
  CHECK(join_alternatives({"a", "b"}) == "a or b");
  CHECK(join_alternatives({"a", "b", "c"}) == "a, b or c");
}
