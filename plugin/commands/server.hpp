#pragma once
/// `prov server …`: servers through a provider (`--provider`, default providers.default).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(ServerListCommand);
PROV_DECLARE_COMMAND(ServerCreateCommand);
PROV_DECLARE_COMPLETING_COMMAND(ServerGetCommand);      // the server id
PROV_DECLARE_COMPLETING_COMMAND(ServerDeleteCommand);   // the server id
PROV_DECLARE_COMPLETING_COMMAND(ServerStopCommand);     // the server id
PROV_DECLARE_COMPLETING_COMMAND(ServerStartCommand);    // the server id
PROV_DECLARE_COMPLETING_COMMAND(ServerRestartCommand);  // the server id
PROV_DECLARE_COMPLETING_COMMAND(ServerLogsCommand);     // the server id

}  // namespace prov::plugin
