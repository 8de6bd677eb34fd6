// prov_local_supervisor --supervise DIR: the `local` provider's supervisor alone, linked with
// the core only, so that the core's tests run servers without the plugin binary. The plugin
// runs the same supervise_main() for `nu_plugin_provisioning --supervise DIR`.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/providers/local_supervisor.hpp"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--supervise") == 0)
    return prov::supervise_main(std::vector<std::string>(argv + 2, argv + argc));
  std::fprintf(stderr, "usage: prov_local_supervisor --supervise SERVER_DIR\n");
  return 2;
}
