#pragma once
/// Where a WorkflowStore comes from: the one place that knows the store implementations.
#include <memory>
#include <string>

#include "core/state/store_settings.hpp"
#include "core/state/workflow_store.hpp"

namespace prov {

/// The store `settings` name: the file store in the state folder, or the etcd store (whose
/// settings, secrets included, are then kept in the state folder's `etcd-store.json`, 0600, for
/// the runners this host starts: never on a command line).
std::unique_ptr<WorkflowStore> open_store(const StoreSettings& settings);

/// The store `locator` names for the workspace at `workspace_root` (WorkflowStore::runner_locator()
/// gives it back): the absolute path of a state folder, opened as the file store (made 0700
/// when missing; StateDir::open's checks), or "etcd:" and that path, opened as the etcd store
/// with the settings kept there.
std::unique_ptr<WorkflowStore> open_store(const std::string& locator, const std::string& workspace_root);

}  // namespace prov
