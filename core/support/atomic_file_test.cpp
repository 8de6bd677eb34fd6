#include "core/support/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

size_t entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("write_file_atomic creates and replaces files with exactly the mode asked", "[atomic_file]") {
  TempDir dir;
  const std::string path = dir / "a.txt";
  const mode_t old_umask = ::umask(077);
  write_file_atomic(path, "first\n", 0644);
  ::umask(old_umask);
  CHECK(mode_of(path) == 0644);
  CHECK(read_file_if_exists(path) == FileContent{"first\n", 0644});

  write_file_atomic(path, std::string("bin\0ary", 7), 0600);
  CHECK(read_file_if_exists(path) == FileContent{std::string("bin\0ary", 7), 0600});
  write_file_atomic(path, "", 0640);
  CHECK(read_file_if_exists(path) == FileContent{"", 0640});
  CHECK(entries(dir.path()) == 1);  // no temporary file left behind
}

TEST_CASE("read_file_if_exists tells absence from failure", "[atomic_file]") {
  TempDir dir;
  CHECK_FALSE(read_file_if_exists(dir / "missing").has_value());
  dir.mkdir("sub");
  try {
    read_file_if_exists(dir / "sub");
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::resource::read");
    CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
  }
  const std::string target = dir.write("target", "secret");
  REQUIRE(::symlink(target.c_str(), (dir / "link").c_str()) == 0);
  CHECK_THROWS_AS(read_file_if_exists(dir / "link"), ResourceError);
}

TEST_CASE("write_file_atomic replaces a symlink instead of writing through it", "[atomic_file]") {
  TempDir dir;
  const std::string target = dir.write("target", "untouched");
  REQUIRE(::symlink(target.c_str(), (dir / "link").c_str()) == 0);
  write_file_atomic(dir / "link", "new", 0600);
  CHECK(read_file_if_exists(target)->data == "untouched");
  CHECK(read_file_if_exists(dir / "link")->data == "new");
}

TEST_CASE("write_file_atomic and remove_file_durable report failures", "[atomic_file]") {
  TempDir dir;
  try {
    write_file_atomic(dir / "no/such/dir/file", "x");
    FAIL("expected ResourceError");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::resource::write");
    CHECK(std::string(e.what()).find("no/such/dir/file") != std::string::npos);
  }
  const std::string path = dir.write("f", "x");
  remove_file_durable(path);
  CHECK_FALSE(read_file_if_exists(path).has_value());
  CHECK_NOTHROW(remove_file_durable(path));  // already gone is fine
  dir.write("full/inside", "x");
  CHECK_THROWS_AS(remove_file_durable(dir / "full"), ResourceError);  // a directory
}
