#pragma once
/// A workflow's durable record, as the runner writes it and any session reads it: the journal
/// header (what was submitted, from where) and the journaled events, from which status,
/// resumption and rollback are derived.

#include <optional>
#include <string>
#include <vector>

#include "core/engine/scheduler.hpp"
#include "core/events/event.hpp"
#include "core/state/workflow_store.hpp"
#include "core/support/subprocess.hpp"

namespace prov {

/// What a runner needs to run a workflow; written once as the journal's header. Nu's environment
/// is not in it (it may hold secrets): each runner gets the environment of the session that
/// started or resumed it as its own process environment (launch_runner()).
struct WorkflowSubmission {
  std::string workflow_id;
  std::string workspace;
  std::string state_dir;
  Datum document;       ///< the workflow record as given
  std::string origin;   ///< its file, or "pipeline input"
  std::string nu_path;  ///< the Nu binary for `nu` operations
  /// The workspace environment (`--env`) the runner loads configuration for; empty: the
  /// PROVISIONING_ENV of the runner's own environment.
  std::string provisioning_env;
  int parallel = 0;     ///< --parallel; 0: the workflow's settings
  /// The merged configuration of the command that submitted it, redacted: the run's, resumed
  /// or not. Null in journals older than the snapshot (the runner then reads the files).
  Datum config;
  /// What the redaction took out of `config` (split_secrets()): written to a private file of
  /// its own by create_workflow(), never to the journal. Not part of to_datum().
  Datum config_secrets;
  size_t config_secret_count = 0;  ///< how many entries that file holds

  /// Keeps `merged` as the run's configuration: `config` and `config_secrets` from it.
  void keep_config(const Datum& merged);

  Datum to_datum() const;
  static WorkflowSubmission from_datum(const Datum& d);
};

/// Creates the workflow's directory, the private file of its configuration's secrets when it
/// has any, and its journal (header only); returns its id.
std::string create_workflow(WorkflowStore& store, WorkflowSubmission submission);

/// The configuration workflow `submission` runs with: its snapshot with the secrets put back.
/// Throws ResourceError `provisioning::state::corrupt_secrets` when the secrets file is missing
/// or does not fit. Null for journals older than the snapshot.
Datum submission_config(const WorkflowStore& store, const WorkflowSubmission& submission);

/// A journal record: an event, plus the undo data of a successful operation.
Datum journal_record(const Event& e, const Datum& undo);

/// What the journal says about a workflow.
struct WorkflowHistory {
  WorkflowSubmission submission;
  std::vector<Event> events;                 ///< every journaled event, in order
  std::vector<Datum> undo;                   ///< undo data by event index (null when none)
  bool tail_damaged = false;
  std::string tail_problem;
};
WorkflowHistory read_history(const WorkflowStore& store, const std::string& id);
/// The history in a journal's header and records (as Journal::read or open_for_append give).
WorkflowHistory history_from(const Datum& header, std::vector<Datum> records);

/// The record `prov workflow status` shows.
struct WorkflowStatus {
  /// status: pending, running, completed, failed, cancelled, rolled_back, rollback_failed, interrupted
  std::string workflow_id, name, status;
  size_t total = 0, succeeded = 0, failed = 0, skipped = 0, running = 0, rolled_back = 0;
  std::string phase;  ///< run or rollback; "" before it started
  std::string cause;  ///< why it rolled back (failed, cancelled, requested); "" when it did not
  std::vector<std::string> undo_failed;  ///< operations whose rollback step failed: not undone
  std::optional<DateTime> started, finished;
  std::optional<Duration> duration;
  std::optional<int64_t> runner_pid;
  std::string runner_host;  ///< the host whose runner holds it; "" when none does
  std::string problem;  ///< e.g. a damaged journal tail
  Datum to_datum() const;
};
/// Status from the history and whether a runner holds the workflow now.
WorkflowStatus workflow_status(const WorkflowStore& store, const std::string& id);
/// The same from a history read already (the fold of its events, WorkflowState).
WorkflowStatus workflow_status(const WorkflowHistory& h, bool runner_alive);
/// The ids of the submitted workflow's operations, in its order.
std::vector<std::string> operation_ids(const WorkflowSubmission& sub);

/// True for the events that end a run (workflow_completed/failed/cancelled).
bool is_terminal(const Event& e);

}  // namespace prov
