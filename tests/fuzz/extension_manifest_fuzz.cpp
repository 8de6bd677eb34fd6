/// Fuzz target: an extension's extension.toml, read and validated as discovery does, in a
/// folder that holds one real entry point. read_extension reports every problem in the
/// extension it returns: nothing may come out of it.

#include <cstdint>
#include <string>

#include "core/extensions/extension.hpp"
#include "core/support/temp_dir.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const prov::TempDir dir("prov-fuzz-extension");
  static const std::string folder = [] {
    dir.write("ext/nulib/provider.nu", "export def list-servers [] { [] }\n");
    return dir / "ext";
  }();
  dir.write("ext/extension.toml", std::string(reinterpret_cast<const char*>(data), size));
  prov::read_extension(folder, prov::plugin_semver()).to_datum();
  return 0;
}
