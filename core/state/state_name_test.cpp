#include "core/state/state_name.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace prov;

TEST_CASE("state_name: ids become file names that are safe, short and distinct", "[state_dir]") {
  CHECK(state_file_name("deploy-api_2") == "deploy-api_2");
  CHECK(state_file_name("a.b") == "a.b");  // a dot inside is kept
  CHECK(state_file_name(".") == "%2E");
  CHECK(state_file_name("..") == "%2E.");
  CHECK(state_file_name(".hidden") == "%2Ehidden");
  CHECK(state_file_name("a/b") == "a%2Fb");
  CHECK(state_file_name("x:y") == "x%3Ay");
  CHECK(state_file_name("50%") == "50%25");
  CHECK(state_file_name(std::string("a\0b\n", 4)) == "a%00b%0A");
  CHECK(state_file_name("\xc3\xa9") == "%C3%A9");
  CHECK(state_file_name("~") == "%7E");
  CHECK(operation_log_name("..") == "%2E..log");

  // Long ids are cut with a hash of the whole id: at most 200 bytes, room for ".log".
  const std::string long_a(300, 'a');
  std::string long_b = long_a;
  long_b.back() = 'b';
  const std::string na = state_file_name(long_a), nb = state_file_name(long_b);
  CHECK(na.size() == 200);
  CHECK(operation_log_name(long_a).size() <= 255);
  CHECK(na != nb);
  CHECK(na.substr(0, 184) == std::string(183, 'a') + "~");
  CHECK(state_file_name(long_a) == na);  // the same id, the same name
  // A cut never splits a %XX escape.
  for (size_t pad = 0; pad < 3; ++pad) {
    const std::string id = std::string(180 + pad, 'x') + std::string(40, ':');
    const std::string n = state_file_name(id);
    INFO(n);
    CHECK(n.size() <= 200);
    const std::string head = n.substr(0, n.find('~'));
    CHECK((head.size() - (180 + pad)) % 3 == 0);
  }
  // Every name is a single, ordinary entry; distinct ids give distinct names.
  std::set<std::string> names;
  const std::vector<std::string> ids = {".", "..", "...", "%2E", "a", "A", "a.", ".a", "a%", "a%25", long_a, long_b,
                                        std::string(251, 'z'), std::string(252, 'z'), std::string(1000, '.')};
  for (const std::string& id : ids) {
    const std::string n = state_file_name(id);
    INFO(id);
    CHECK(!n.empty());
    CHECK(n != ".");
    CHECK(n != "..");
    CHECK(n.front() != '.');
    CHECK(n.find('/') == std::string::npos);
    CHECK(n.size() <= 200);
    names.insert(n);
  }
  CHECK(names.size() == ids.size());
}
