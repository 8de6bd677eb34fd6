/// A main() for the fuzz targets in ordinary builds: runs LLVMFuzzerTestOneInput once over every
/// file named, and every file of every folder named, in name order. A crash or an escaping
/// exception fails the run; so does a folder without files (a corpus that went missing).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (!fs::is_directory(arg)) {
      inputs.push_back(arg);
      continue;
    }
    const size_t before = inputs.size();
    for (const fs::directory_entry& e : fs::directory_iterator(arg))
      if (e.is_regular_file()) inputs.push_back(e.path());
    if (inputs.size() == before) {
      std::fprintf(stderr, "replay: %s holds no inputs\n", argv[i]);
      return 1;
    }
    std::sort(inputs.begin() + static_cast<std::ptrdiff_t>(before), inputs.end());
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (const fs::path& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
