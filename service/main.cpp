// nu_plugin_provisioning-service: the HTTP service (`nu_plugin_provisioning serve …` runs this
// binary, which sits beside the plugin). A binary of its own because the HTTP and TLS libraries
// it links cost every start about 10 ms (measured: 2.2 ms → 12.5 ms per exec), which the plugin,
// the runner and the supervisor must not pay.
#include <unistd.h>

#include <string>
#include <vector>

#include "core/support/proc_stat.hpp"
#include "service/serve_main.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "serve") args.erase(args.begin());
  // The plugin binary (which runs workflows) sits beside this one.
  std::string dir = prov::self_executable();
  if (dir.empty()) dir = argv[0];
  dir = dir.substr(0, dir.rfind('/') + 1);
  return prov::service::serve_main(args, dir + "nu_plugin_provisioning");
}
