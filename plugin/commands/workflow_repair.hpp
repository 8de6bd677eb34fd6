#pragma once
/// `prov workflow repair <id>`: the explicit repair of a damaged workflow journal (a torn tail
/// or corruption): keeps the intact records, reports what is lost, keeps the cut bytes.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMPLETING_COMMAND(WorkflowRepairCommand);

}  // namespace prov::plugin
