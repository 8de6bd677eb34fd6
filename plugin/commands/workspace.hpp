#pragma once
/// `prov workspace init|info|use`: make a workspace, describe the one in effect, and switch the
/// calling session to one (AddEnvVar).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(WorkspaceInitCommand);
PROV_DECLARE_COMMAND(WorkspaceInfoCommand);
PROV_DECLARE_COMMAND(WorkspaceUseCommand);

}  // namespace prov::plugin
