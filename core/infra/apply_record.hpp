#pragma once
/// The managed state follows the journal: an apply's (or destroy's) workflow is recorded as the
/// store's pending apply before its runner starts; once the runner has let go, its journaled
/// resource events are folded into the managed servers — a server created is recorded, one
/// deleted (by the apply or by its rollback) is forgotten — and the pending apply cleared. A
/// runner killed in mid-apply leaves it pending (interrupted) until `prov workflow resume` or
/// `rollback` ends it; the next `prov infra` command records it then.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/events/event.hpp"
#include "core/state/workflow_store.hpp"

namespace prov {

/// The record a provider reports for server `id` now (null when it cannot say).
using LookServer = std::function<Datum(const std::string& provider, const std::string& id)>;

/// Folds `events` of the pending apply `pending` (infra_workflow.hpp) into the store's managed
/// servers; returns the names recorded or forgotten, in order.
std::vector<std::string> record_infra_results(WorkflowStore& store, const Datum& pending,
                                              const std::vector<Event>& events, const LookServer& look);

/// Where the pending apply stands.
enum class PendingApply { none, recorded, running, interrupted };

/// Records the pending apply when its workflow has ended (the caller holds the infrastructure
/// lock). `workflow` gets its id when there is one.
PendingApply settle_pending_apply(WorkflowStore& store, const LookServer& look, std::string* workflow = nullptr);

/// The infrastructure lock for `purpose`, once no earlier apply is still running: an earlier
/// apply's runner is waited for up to `timeout`, then ResourceError `provisioning::state::locked`
/// names its workflow and runner; an interrupted one is `provisioning::infra::interrupted`
/// saying how to end it. An earlier apply that ended is recorded first.
std::unique_ptr<InfraLock> acquire_infra(WorkflowStore& store, std::chrono::milliseconds timeout,
                                         const std::string& purpose, const LookServer& look);

}  // namespace prov
