#include "core/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace prov;
namespace fs = std::filesystem;

TEST_CASE("TempDir creates a private directory and removes it with its contents", "[temp_dir]") {
  std::string kept;
  {
    TempDir a("prov-test"), b("prov-test");
    kept = a.path();
    CHECK(a.path() != b.path());
    CHECK(fs::is_directory(a.path()));
    CHECK(fs::path(a.path()).is_absolute());
    CHECK(fs::path(a.path()).filename().string().rfind("prov-test-", 0) == 0);

    const std::string file = a.write("x/y/z.txt", "hello");
    CHECK(file == a / "x/y/z.txt");
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "hello");
    CHECK(fs::is_directory(a.mkdir("p/q")));
  }
  CHECK_FALSE(fs::exists(kept));
}
