#pragma once
/// `prov events`: the event log of every workflow of the workspace, merged in time order; with
/// --follow, a stream that goes on with what any workflow, new ones included, appends.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMPLETING_COMMAND(EventsCommand);

}  // namespace prov::plugin
