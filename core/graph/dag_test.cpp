// The operations graph: building it, cycles of every length, levels and their order, and a
// 200,000-operation graph with about a million edges.

#include "core/graph/dag.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>

using namespace prov;

namespace {

using Lists = std::vector<std::vector<size_t>>;

WorkflowSpec spec_of(const std::vector<std::pair<std::string, std::vector<std::string>>>& ops) {
  WorkflowSpec w;
  w.name = "t";
  for (const auto& [id, deps] : ops) {
    OperationSpec op;
    op.id = id;
    op.kind = "command";
    op.depends_on = deps;
    w.operations.push_back(op);
  }
  return w;
}

/// Every edge goes from an earlier to a later position of `order`, which holds each index once,
/// and every level is one more than the highest of its dependencies'.
void require_valid_levels(const Dag& dag, const Levels& levels) {
  const size_t n = dag.size();
  REQUIRE(levels.order.size() == n);
  REQUIRE(levels.level.size() == n);
  std::vector<size_t> position(n, n);
  size_t bad_entries = 0;
  for (size_t k = 0; k < n; ++k) {
    if (levels.order[k] >= n || position[levels.order[k]] != n)
      ++bad_entries;
    else
      position[levels.order[k]] = k;
  }
  REQUIRE(bad_entries == 0);
  size_t bad_edges = 0, bad_levels = 0, bad_ties = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t expected = 0;
    for (size_t d : dag.deps[i]) {
      if (position[d] >= position[i]) ++bad_edges;
      expected = std::max(expected, levels.level[d] + 1);
    }
    if (levels.level[i] != expected) ++bad_levels;
  }
  for (size_t k = 1; k < n; ++k) {
    const size_t a = levels.order[k - 1], b = levels.order[k];
    if (levels.level[a] > levels.level[b] || (levels.level[a] == levels.level[b] && a > b))
      ++bad_ties;
  }
  CHECK(bad_edges == 0);
  CHECK(bad_levels == 0);
  CHECK(bad_ties == 0);
}

}  // namespace

TEST_CASE("make_dag drops repeated dependencies and derives dependents", "[graph][dag]") {
  const Dag dag = make_dag(Lists{{}, {0, 0}, {1, 0, 1}, {2}});
  CHECK(dag.size() == 4);
  CHECK(dag.deps == Lists{{}, {0}, {1, 0}, {2}});
  CHECK(dag.dependents == Lists{{1, 2}, {2}, {3}, {}});
  CHECK_THROWS_AS(make_dag(Lists{{}, {2}}), std::out_of_range);
}

TEST_CASE("make_dag of a spec resolves ids, refuses duplicates and unknown ids", "[graph][dag]") {
  const Dag dag = make_dag(spec_of({{"b", {"a"}}, {"a", {}}, {"c", {"a", "b"}}}));
  CHECK(dag.deps == Lists{{1}, {}, {1, 0}});
  CHECK(dag.dependents == Lists{{2}, {0, 2}, {}});

  try {
    make_dag(spec_of({{"a", {}}, {"a", {}}}));
    FAIL("duplicate ids accepted");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::duplicate_id");
    CHECK(std::string(e.what()) == "operation 'a' is defined more than once");
  }
  try {
    make_dag(spec_of({{"a", {"nope"}}}));
    FAIL("unknown dependency accepted");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::unknown_dependency");
    CHECK(std::string(e.what()).find("'nope'") != std::string::npos);
  }
}

TEST_CASE("find_cycles finds nothing in a DAG", "[graph][dag][cycle]") {
  CHECK(find_cycles(make_dag(Lists{})).empty());
  CHECK(find_cycles(make_dag(Lists{{}, {0}, {0}, {1, 2}})).empty());
}

TEST_CASE("find_cycles finds cycles of every length", "[graph][dag][cycle]") {
  SECTION("a self-loop") { CHECK(find_cycles(make_dag(Lists{{}, {1}})) == Lists{{1}}); }
  SECTION("two operations waiting for each other") {
    CHECK(find_cycles(make_dag(Lists{{1}, {0}})) == Lists{{0, 1}});
  }
  SECTION("three, listed from the smallest index along the edges") {
    // 0 waits for 2, 1 for 0, 2 for 1: 0 -> 1 -> 2 -> 0.
    CHECK(find_cycles(make_dag(Lists{{2}, {0}, {1}})) == Lists{{0, 1, 2}});
    // 0 waits for 1, 1 for 2, 2 for 0: 0 -> 2 -> 1 -> 0.
    CHECK(find_cycles(make_dag(Lists{{1}, {2}, {0}})) == Lists{{0, 2, 1}});
  }
  SECTION("one of 5,000 operations, with a tail into and out of it") {
    const size_t n = 5000;
    Lists deps(n + 2);
    for (size_t i = 1; i < n; ++i) deps[i] = {i - 1};
    deps[0] = {n - 1, n};   // closes the ring; n is a root outside it
    deps[n + 1] = {n / 2};  // waits on the ring
    const Lists cycles = find_cycles(make_dag(deps));
    REQUIRE(cycles.size() == 1);
    std::vector<size_t> ring(n);
    std::iota(ring.begin(), ring.end(), size_t{0});
    CHECK(cycles[0] == ring);
  }
}

TEST_CASE("find_cycles reports each component once, in order of its smallest index",
          "[graph][dag][cycle]") {
  // {5,6} and {1,3,4} are cycles, 2 a self-loop, 0 and 7 are fine; 7 waits on a cycle.
  const Lists deps = {{}, {4}, {2}, {1}, {3}, {6}, {5}, {6, 0}};
  CHECK(find_cycles(make_dag(deps)) == Lists{{1, 3, 4}, {2}, {5, 6}});
}

TEST_CASE("find_cycles gives a shortest cycle through the component's smallest index",
          "[graph][dag][cycle]") {
  // One component: 0 -> 1 -> 2 -> 3 -> 0 and the shortcut 1 -> 0.
  const Lists deps = {{3, 1}, {0}, {1}, {2}};
  CHECK(find_cycles(make_dag(deps)) == Lists{{0, 1}});
  // Deterministic: the same graph gives the same answer every time.
  CHECK(find_cycles(make_dag(deps)) == find_cycles(make_dag(deps)));
}

TEST_CASE("find_cycles handles a ring of 200,000 without recursion", "[graph][dag][cycle]") {
  const size_t n = 200'000;
  Lists deps(n);
  for (size_t i = 0; i < n; ++i) deps[i] = {(i + 1) % n};
  const Lists cycles = find_cycles(make_dag(deps));
  REQUIRE(cycles.size() == 1);
  REQUIRE(cycles[0].size() == n);
  CHECK(cycles[0][0] == 0);
  CHECK(cycles[0][1] == n - 1);  // 0 waits for 1, so the edge from 0 goes to n-1, which waits for 0
  CHECK(cycles[0][n - 1] == 1);
}

TEST_CASE("compute_levels layers a diamond, chains and a wide fan", "[graph][dag][levels]") {
  SECTION("diamond") {
    const Dag dag = make_dag(Lists{{}, {0}, {0}, {1, 2}});
    const std::optional<Levels> l = compute_levels(dag);
    REQUIRE(l);
    CHECK(l->level == std::vector<size_t>{0, 1, 1, 2});
    CHECK(l->order == std::vector<size_t>{0, 1, 2, 3});
    CHECK(l->depth == 3);
  }
  SECTION("a level is the longest chain, not the shortest") {
    // 3 waits for 0 directly and through 1 -> 2.
    const std::optional<Levels> l = compute_levels(make_dag(Lists{{}, {0}, {1}, {0, 2}}));
    REQUIRE(l);
    CHECK(l->level == std::vector<size_t>{0, 1, 2, 3});
  }
  SECTION("two chains written interleaved and backwards") {
    // a3 a2 b2 a1 b1: b1 <- b2, a1 <- a2 <- a3.
    const std::optional<Levels> l = compute_levels(make_dag(Lists{{1}, {3}, {4}, {}, {}}));
    REQUIRE(l);
    CHECK(l->level == std::vector<size_t>{2, 1, 1, 0, 0});
    CHECK(l->order == std::vector<size_t>{3, 4, 1, 2, 0});
    CHECK(l->depth == 3);
  }
  SECTION("wide: ties keep the order written") {
    Lists deps(1001);  // the root is written last
    for (size_t i = 0; i < 1000; ++i) deps[i] = {1000};
    const std::optional<Levels> l = compute_levels(make_dag(deps));
    REQUIRE(l);
    CHECK(l->order.front() == 1000);
    std::vector<size_t> rest(l->order.begin() + 1, l->order.end());
    std::vector<size_t> expected(1000);
    std::iota(expected.begin(), expected.end(), size_t{0});
    CHECK(rest == expected);
    CHECK(l->depth == 2);
  }
  SECTION("nothing") {
    const std::optional<Levels> l = compute_levels(make_dag(Lists{}));
    REQUIRE(l);
    CHECK(l->order.empty());
    CHECK(l->depth == 0);
  }
  SECTION("a cycle has no levels") {
    CHECK_FALSE(compute_levels(make_dag(Lists{{}, {2}, {1}, {0}})));
    CHECK_FALSE(compute_levels(make_dag(Lists{{0}})));
  }
}

TEST_CASE("a random DAG of 200,000 operations and about 1,000,000 edges plans",
          "[graph][dag][large]") {
  const size_t n = 200'000;
  std::mt19937_64 rng(42);
  // Edges from lower to higher rank; ranks are shuffled so that the order written is not
  // already a topological order.
  std::vector<size_t> op_at_rank(n);
  std::iota(op_at_rank.begin(), op_at_rank.end(), size_t{0});
  std::shuffle(op_at_rank.begin(), op_at_rank.end(), rng);
  Lists deps(n);
  size_t edges = 0;
  for (size_t r = 1; r < n; ++r) {
    const size_t count = std::min<size_t>(r, rng() % 11);  // 5 on average
    for (size_t e = 0; e < count; ++e) {
      // Mostly near ranks, so that chains (and levels) grow long.
      const size_t back = 1 + (rng() % 4 == 0 ? rng() % r : rng() % std::min<size_t>(r, 50));
      deps[op_at_rank[r]].push_back(op_at_rank[r - back]);
      ++edges;
    }
  }
  CHECK(edges > 900'000);
  const Dag dag = make_dag(deps);
  const std::optional<Levels> levels = compute_levels(dag);
  REQUIRE(levels);
  require_valid_levels(dag, *levels);
  CHECK(levels->depth > 100);
  CHECK(find_cycles(dag).empty());

  // One edge back closes a cycle; it is found and levels refuse.
  deps[op_at_rank[0]].push_back(op_at_rank[n - 1]);
  const Dag cyclic = make_dag(deps);
  CHECK_FALSE(compute_levels(cyclic));
  const Lists cycles = find_cycles(cyclic);
  REQUIRE(cycles.size() == 1);
  const std::vector<size_t>& c = cycles[0];
  for (size_t k = 0; k < c.size(); ++k) {
    const size_t from = c[k], to = c[(k + 1) % c.size()];
    const auto& waits = cyclic.deps[to];
    CHECK(std::find(waits.begin(), waits.end(), from) != waits.end());
  }
  CHECK(*std::min_element(c.begin(), c.end()) == c.front());
}

TEST_CASE("cycle_text and cycle_error name the cycle by ids", "[graph][dag][cycle]") {
  const WorkflowSpec spec = spec_of({{"a", {"c"}}, {"b", {"a"}}, {"c", {"b"}}});
  const Lists cycles = find_cycles(make_dag(spec));
  REQUIRE(cycles.size() == 1);
  CHECK(cycle_text(spec, cycles[0]) == "a -> b -> c -> a");
  const WorkflowError e = cycle_error(spec, cycles[0]);
  CHECK(e.code() == "provisioning::workflow::cycle");
  CHECK(std::string(e.what()) == "dependency cycle: a -> b -> c -> a");
  CHECK(e.blame().kind == Blame::Kind::input);
  CHECK(cycle_text(spec, {1}) == "b -> b");

  std::vector<std::pair<std::string, std::vector<std::string>>> ring;
  for (int i = 0; i < 100; ++i) ring.push_back({"s" + std::to_string(i), {}});
  const WorkflowSpec big = spec_of(ring);
  std::vector<size_t> all(100);
  std::iota(all.begin(), all.end(), size_t{0});
  CHECK(cycle_text(big, all) ==
        "s0 -> s1 -> s2 -> s3 -> s4 -> s5 -> … 90 more … -> s96 -> s97 -> s98 -> s99 -> s0");
  std::vector<size_t> twelve(all.begin(), all.begin() + 12);
  CHECK(cycle_text(big, twelve) ==
        "s0 -> s1 -> s2 -> s3 -> s4 -> s5 -> s6 -> s7 -> s8 -> s9 -> s10 -> s11 -> s0");
}
