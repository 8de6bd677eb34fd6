#include "core/support/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "core/support/error.hpp"

namespace prov {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = (base && *base ? std::string(base) : std::string("/tmp")) + "/" +
                        prefix + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw ResourceError("provisioning::resource::temp_dir",
                        "cannot create a temporary directory " + pattern + ": " +
                            std::strerror(errno));
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& relative, const std::string& content) const {
  const fs::path file = fs::path(path_) / relative;
  fs::create_directories(file.parent_path());
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << content;
  if (!f)
    throw ResourceError("provisioning::resource::temp_dir", "cannot write " + file.string());
  return file.string();
}

std::string TempDir::mkdir(const std::string& relative) const {
  const fs::path dir = fs::path(path_) / relative;
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace prov
