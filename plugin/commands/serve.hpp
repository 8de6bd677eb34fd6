#pragma once
/// `prov serve start|status|stop`: the workspace's HTTP service (`nu_plugin_provisioning serve`,
/// docs/API.md) started detached from Nu, asked where it listens, and stopped.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(ServeStartCommand);
PROV_DECLARE_COMMAND(ServeStatusCommand);
PROV_DECLARE_COMMAND(ServeStopCommand);

}  // namespace prov::plugin
