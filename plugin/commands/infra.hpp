#pragma once
/// `prov infra …`: desired state. An infrastructure definition (core/infra/infra_definition.hpp)
/// is planned against the servers the workspace manages (kept in its store), applied as a
/// journaled workflow of server.create / server.delete operations, destroyed, compared with what
/// providers report (drift), and extended by adopting servers made elsewhere (import).

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMMAND(InfraPlanCommand);
PROV_DECLARE_COMMAND(InfraApplyCommand);
PROV_DECLARE_COMMAND(InfraDestroyCommand);
PROV_DECLARE_COMMAND(InfraDriftCommand);
PROV_DECLARE_COMMAND(InfraImportCommand);
PROV_DECLARE_COMMAND(InfraStateCommand);

}  // namespace prov::plugin
