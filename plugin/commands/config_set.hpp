#pragma once
/// `prov config set <key> <value>`: one key of config.user.toml, set by a one-operation
/// workflow (`config.set`), so that the change is journaled and `prov workflow rollback` undoes it.

#include "plugin/commands/command.hpp"

namespace prov::plugin {

PROV_DECLARE_COMPLETING_COMMAND(ConfigSetCommand);  // the key path

}  // namespace prov::plugin
