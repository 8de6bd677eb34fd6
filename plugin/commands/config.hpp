#pragma once
/// `prov config`, `prov config sources`, `prov config get`: the workspace's merged,
/// interpolated configuration, where each leaf came from, and one value by path.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(ConfigCommand);
PROV_DECLARE_COMMAND(ConfigSourcesCommand);
PROV_DECLARE_COMPLETING_COMMAND(ConfigGetCommand);  // the key path

}  // namespace prov::plugin
