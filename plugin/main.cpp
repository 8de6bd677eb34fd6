// nu_plugin_provisioning: Nushell starts this with --stdio and speaks the plugin protocol on
// stdin/stdout. Run by hand, it says how to register it.

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/engine/agent.hpp"
#include "core/engine/workflow_runner.hpp"
#include "core/providers/local_supervisor.hpp"
#include "core/support/limits.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/version.hpp"
#include "plugin/commands/command.hpp"
#include "plugin/commands/provider_session.hpp"
#include "plugin/engine/plugin_server.hpp"
#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/engine_version.hpp"

/// `serve …`: the HTTP service is the binary beside this one (service/main.cpp says why).
static int exec_service(char** argv) {
  std::string exe = prov::self_executable();
  if (exe.empty()) exe = argv[0];
  exe = exe.substr(0, exe.rfind('/') + 1) + "nu_plugin_provisioning-service";
  argv[0] = exe.data();
  ::execv(exe.c_str(), argv);
  std::fprintf(stderr, "nu_plugin_provisioning serve: cannot start %s: %s\n", exe.c_str(), std::strerror(errno));
  return 127;
}

int main(int argc, char** argv) {
  using namespace prov::plugin;
  if (argc >= 2 && std::strcmp(argv[1], "--runner") == 0)
    return prov::runner_main(std::vector<std::string>(argv + 2, argv + argc));
  if (argc >= 2 && std::strcmp(argv[1], "--supervise") == 0)
    return prov::supervise_main(std::vector<std::string>(argv + 2, argv + argc));
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return exec_service(argv);
  if (argc >= 2 && std::strcmp(argv[1], "agent") == 0)
    return prov::agent_main(std::vector<std::string>(argv + 2, argv + argc));
  if (argc != 2 || std::strcmp(argv[1], "--stdio") != 0) {
    std::fprintf(stderr,
                 "nu_plugin_provisioning %s is a Nushell plugin (Nushell %s).\n"
                 "Register it from Nushell with:  plugin add %s; plugin use provisioning\n"
                 "or try it once with:           nu --plugins '[%s]' -c 'prov version'\n"
                 "The HTTP service:              %s serve [--workspace DIR] [--listen HOST:PORT]\n"
                 "An agent (shared etcd store):  %s agent [--workspace DIR] [--name NAME] [--env NAME]\n",
                 prov::kVersion, supported_range_text().c_str(), argv[0], argv[0], argv[0], argv[0]);
    return (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) ? 0 : 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const char* env = std::getenv("PROVISIONING_PLUGIN_ENCODING");
  std::string encoding = env && *env ? env : "msgpack";
  prov::Limits limits;
  try {
    limits = prov::Limits::from_environment([](const char* name) { return std::getenv(name); });
  } catch (const prov::LimitError& e) {
    std::fprintf(stderr, "nu_plugin_provisioning: %s (%s)\n", e.what(), e.help().c_str());
    return 2;
  }
  auto codec = make_codec(encoding, codec_limits(static_cast<size_t>(limits.message_size),
                                                 static_cast<size_t>(limits.depth)));
  if (!codec) {
    std::fprintf(stderr, "nu_plugin_provisioning: PROVISIONING_PLUGIN_ENCODING must be 'msgpack' or 'json', not '%s'\n",
                 encoding.c_str());
    return 2;
  }
  static const CommandRegistry commands = make_registry();
  PluginServer server(commands, std::move(codec), 0, 1);
  server.gc_hold().add_source(provider_state_until);
  server.serve();
}
