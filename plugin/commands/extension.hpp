#pragma once
/// `prov extension list` and `prov extension get <name>`: extensions found in the workspace,
/// with their problems.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(ExtensionListCommand);
PROV_DECLARE_COMPLETING_COMMAND(ExtensionGetCommand);  // the extension's name

}  // namespace prov::plugin
