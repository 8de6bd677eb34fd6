#include "plugin/commands/command.hpp"
#include "plugin/commands/config.hpp"
#include "plugin/commands/prov.hpp"
#include "plugin/commands/version.hpp"

namespace prov::plugin {

CommandRegistry make_registry() {
  CommandRegistry r;
  r.add(std::make_unique<ProvCommand>());
  r.add(std::make_unique<VersionCommand>());
  r.add(std::make_unique<ConfigCommand>());
  r.add(std::make_unique<ConfigSourcesCommand>());
  r.add(std::make_unique<ConfigGetCommand>());
  return r;
}

}  // namespace prov::plugin
