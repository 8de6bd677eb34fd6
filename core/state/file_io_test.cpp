#include "core/state/file_io.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "core/support/error.hpp"

using namespace prov;

TEST_CASE("io_error: a full or read-only file system has its own code, naming the path", "[state]") {
  const std::string path = "/state/workflows/wf-1/journal";
  auto full = io_error("write", path, ENOSPC);
  CHECK(full.code() == "provisioning::state::disk_full");
  CHECK(std::string(full.what()) == "cannot write " + path + ": No space left on device");
  CHECK(io_error("write", path, EDQUOT).code() == "provisioning::state::disk_full");
  auto ro = io_error("create", path, EROFS);
  CHECK(ro.code() == "provisioning::state::read_only");
  CHECK(std::string(ro.what()).find(path) != std::string::npos);
  CHECK(io_error("read", path, EIO).code() == "provisioning::state::io");
}
