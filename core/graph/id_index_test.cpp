// The id index: first index wins, lookups of absent ids, growth past the expected size.

#include "core/graph/id_index.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("IdIndex keeps the first index of each id", "[graph][id_index]") {
  IdIndex index(2);
  CHECK(index.insert("build", 0) == 0);
  CHECK(index.insert("test", 1) == 1);
  CHECK(index.insert("build", 2) == 0);
  CHECK(index.insert("", 3) == 3);
  CHECK(index.size() == 3);
  CHECK(index.find("build") == 0);
  CHECK(index.find("test") == 1);
  CHECK(index.find("") == 3);
  CHECK(index.find("buil") == IdIndex::npos);
  CHECK(index.find("build ") == IdIndex::npos);
  CHECK(index.find("deploy") == IdIndex::npos);
}

TEST_CASE("IdIndex tells long ids with the same beginning apart", "[graph][id_index]") {
  IdIndex index(4);
  const std::string base = "provision-the-database-cluster-";  // longer than a slot's head
  CHECK(index.insert(base + "1", 0) == 0);
  CHECK(index.insert(base + "2", 1) == 1);
  CHECK(index.insert("provision-the-da", 2) == 2);  // exactly the head
  CHECK(index.insert(base + "2", 3) == 1);
  CHECK(index.find(base + "1") == 0);
  CHECK(index.find(base + "2") == 1);
  CHECK(index.find("provision-the-da") == 2);
  CHECK(index.find(base + "3") == IdIndex::npos);
  CHECK(index.find(base) == IdIndex::npos);
  CHECK(index.find("provision-the-d") == IdIndex::npos);
}

TEST_CASE("IdIndex grows past its expected size", "[graph][id_index]") {
  IdIndex index;  // sized for nothing
  const size_t n = 100'000;
  auto id = [](size_t i) { return (i % 2 ? "operation-number-" : "op-") + std::to_string(i); };
  size_t wrong = 0;
  for (size_t i = 0; i < n; ++i)
    if (index.insert(id(i), i) != i) ++wrong;
  CHECK(index.size() == n);
  for (size_t i = 0; i < n; ++i) {
    if (index.find(id(i)) != i) ++wrong;
    if (index.insert(id(i), n + i) != i) ++wrong;
    if (index.find(id(i) + "x") != IdIndex::npos) ++wrong;
  }
  CHECK(wrong == 0);
}
