#include "core/config/merge.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {

const Origin kA{"defaults", "/ws/config.defaults.toml"};
const Origin kB{"user", "/ws/config.user.toml"};
const Origin kC{"runtime", "pipeline input"};

/// "key=value@layer" lines, one per leaf, for compact assertions.
std::vector<std::string> describe(const Datum& merged, const Provenance& prov) {
  std::vector<std::string> out;
  for (const ConfigLeaf& leaf : collect_leaves(merged, prov))
    out.push_back(leaf.key + "=" + to_display(leaf.value) + "@" + leaf.layer);
  return out;
}

}  // namespace

TEST_CASE("merge_layer merges records deeply and keeps first-seen key order", "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged,
              DatumRecord{{"providers", DatumRecord{{"default", "local"},
                                                    {"local", DatumRecord{{"timeout", 30},
                                                                          {"log_dir", "/l"}}}}},
                          {"workflow", DatumRecord{{"parallel", 4}}}},
              kA, prov);
  merge_layer(merged,
              DatumRecord{{"zeta", 1},
                          {"providers", DatumRecord{{"local", DatumRecord{{"timeout", 5},
                                                                          {"extra", true}}}}}},
              kB, prov);
  CHECK(merged == Datum(DatumRecord{
                      {"providers", DatumRecord{{"default", "local"},
                                                {"local", DatumRecord{{"timeout", 5},
                                                                      {"log_dir", "/l"},
                                                                      {"extra", true}}}}},
                      {"workflow", DatumRecord{{"parallel", 4}}},
                      {"zeta", 1}}));
  CHECK(describe(merged, prov) == std::vector<std::string>{
                                      "providers.default=local@defaults",
                                      "providers.local.timeout=5@user",
                                      "providers.local.log_dir=/l@defaults",
                                      "providers.local.extra=true@user",
                                      "workflow.parallel=4@defaults",
                                      "zeta=1@user",
                                  });
  const std::vector<ConfigLeaf> leaves = collect_leaves(merged, prov);
  CHECK(leaves[1].source == "/ws/config.user.toml");
  CHECK(leaves[2].source == "/ws/config.defaults.toml");
}

TEST_CASE("merge_layer: a scalar replaces a record and forgets its leaves", "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged, DatumRecord{{"a", DatumRecord{{"b", 1}, {"c", DatumRecord{{"d", 2}}}}}},
              kA, prov);
  merge_layer(merged, DatumRecord{{"a", "flat"}}, kB, prov);
  CHECK(merged == Datum(DatumRecord{{"a", "flat"}}));
  CHECK(describe(merged, prov) == std::vector<std::string>{"a=flat@user"});
  CHECK(prov.size() == 1);
}

TEST_CASE("merge_layer: a record replaces a scalar", "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged, DatumRecord{{"a", 1}, {"z", 0}}, kA, prov);
  merge_layer(merged, DatumRecord{{"a", DatumRecord{{"b", 2}, {"c", 3}}}}, kB, prov);
  CHECK(merged == Datum(DatumRecord{{"a", DatumRecord{{"b", 2}, {"c", 3}}}, {"z", 0}}));
  CHECK(describe(merged, prov) ==
        std::vector<std::string>{"a.b=2@user", "a.c=3@user", "z=0@defaults"});
  CHECK(prov.size() == 3);
}

TEST_CASE("merge_layer: lists replace lists, never concatenate", "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged, DatumRecord{{"s", DatumRecord{{"patterns", DatumList{"a", "b", "c"}}}}},
              kA, prov);
  merge_layer(merged, DatumRecord{{"s", DatumRecord{{"patterns", DatumList{"x"}}}}}, kB, prov);
  CHECK(*merged.find("s")->find("patterns") == Datum(DatumList{"x"}));
  CHECK(describe(merged, prov) == std::vector<std::string>{"s.patterns=[\"x\"]@user"});
  // A list of records is one leaf: its records are not merged item by item.
  const Datum records = DatumList{DatumRecord{{"k", 1}}};
  merge_layer(merged, DatumRecord{{"s", DatumRecord{{"patterns", records}}}}, kC, prov);
  CHECK(describe(merged, prov) == std::vector<std::string>{"s.patterns=[{k: 1}]@runtime"});
}

TEST_CASE("merge_layer: empty records are leaves until something fills them", "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged, DatumRecord{{"servers", DatumRecord{}}, {"x", DatumRecord{{"y", 1}}}}, kA,
              prov);
  CHECK(describe(merged, prov) ==
        std::vector<std::string>{"servers={}@defaults", "x.y=1@defaults"});

  // An empty record merged into a full one changes nothing.
  merge_layer(merged, DatumRecord{{"x", DatumRecord{}}}, kB, prov);
  CHECK(describe(merged, prov) ==
        std::vector<std::string>{"servers={}@defaults", "x.y=1@defaults"});

  // Set empty again: the later layer is the one that set it.
  merge_layer(merged, DatumRecord{{"servers", DatumRecord{}}}, kB, prov);
  CHECK(describe(merged, prov) == std::vector<std::string>{"servers={}@user", "x.y=1@defaults"});

  // Filled: the record stops being a leaf, its new member is one.
  merge_layer(merged, DatumRecord{{"servers", DatumRecord{{"web", "up"}}}}, kC, prov);
  CHECK(describe(merged, prov) ==
        std::vector<std::string>{"servers.web=up@runtime", "x.y=1@defaults"});
  CHECK(prov.count({"servers"}) == 0);
}

TEST_CASE("merge_layer: a record over a scalar over a record keeps only the newest leaves",
          "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged, DatumRecord{{"a", DatumRecord{{"old", 1}}}, {"ab", 9}}, kA, prov);
  merge_layer(merged, DatumRecord{{"a", 5}}, kB, prov);
  merge_layer(merged, DatumRecord{{"a", DatumRecord{{"new", 2}}}}, kC, prov);
  CHECK(describe(merged, prov) == std::vector<std::string>{"a.new=2@runtime", "ab=9@defaults"});
  // Forgetting a's subtree must not touch the sibling "ab" that sorts right after it.
  CHECK(prov.count({"ab"}) == 1);
  CHECK(prov.size() == 2);
}

TEST_CASE("collect_leaves reports a leaf's current value, even when it became a record",
          "[config][merge]") {
  Datum merged = DatumRecord{};
  Provenance prov;
  merge_layer(merged,
              DatumRecord{{"alias", "{{config.target}}"}, {"target", DatumRecord{{"k", 1}}}}, kA,
              prov);
  // Interpolation replaces the string with the record it names; the leaf stays "alias".
  *merged.find("alias") = DatumRecord{{"k", 1}};
  CHECK(describe(merged, prov) ==
        std::vector<std::string>{"alias={k: 1}@defaults", "target.k=1@defaults"});
}
