#include "core/state/open_store.hpp"

#include "core/state/file_store.hpp"

namespace prov {

std::unique_ptr<WorkflowStore> open_store(const std::string& locator, const std::string& workspace_root) {
  return std::make_unique<FileStore>(locator, workspace_root);
}

}  // namespace prov
