#pragma once
/// Where a WorkflowStore comes from: the one place that knows the store implementations.
#include <memory>
#include <string>

#include "core/state/workflow_store.hpp"

namespace prov {

/// The store `locator` names for the workspace at `workspace_root` (WorkflowStore::runner_locator()
/// gives it back): today the absolute path of a state folder, opened as the file store
/// (made 0700 when missing; StateDir::open's checks).
std::unique_ptr<WorkflowStore> open_store(const std::string& locator, const std::string& workspace_root);

}  // namespace prov
