#include "core/engine/workflow_record.hpp"

#include "core/engine/checkpoint.hpp"
#include "core/engine/workflow_state.hpp"
#include "core/events/event.hpp"
#include "core/graph/workflow_parse.hpp"
#include "core/state/journal.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/host_name.hpp"
#include "core/support/redact.hpp"
#include "core/support/duration.hpp"

namespace prov {

Datum WorkflowSubmission::to_datum() const {
  return Datum(DatumRecord{{"format", Datum("prov-workflow/1")},
                           {"workflow_id", Datum(workflow_id)},
                           {"workspace", Datum(workspace)},
                           {"state_dir", Datum(state_dir)},
                           {"origin", Datum(origin)},
                           {"nu_path", Datum(nu_path)},
                           {"parallel", Datum(static_cast<int64_t>(parallel))},
                           {"created", Datum(now_utc())},
                           {"provisioning_env", Datum(provisioning_env)},
                           {"config", config},
                           {"config_secrets", Datum(static_cast<int64_t>(config_secret_count))},
                           {"document", document}});
}

void WorkflowSubmission::keep_config(const Datum& merged) {
  SecretSplit split = split_secrets(merged, secret_patterns(merged));
  config = std::move(split.shown);
  config_secret_count = split.hidden.list().size();
  config_secrets = std::move(split.hidden);
}

WorkflowSubmission WorkflowSubmission::from_datum(const Datum& d) {
  auto str = [&](const char* k) -> std::string {
    const Datum* v = d.find(k);
    if (!v || !v->is_string())
      throw ResourceError("provisioning::state::corrupt_journal", std::string("journal header lacks '") + k + "'");
    return v->str();
  };
  WorkflowSubmission s;
  s.workflow_id = str("workflow_id");
  s.workspace = str("workspace");
  s.state_dir = str("state_dir");
  s.origin = str("origin");
  s.nu_path = str("nu_path");
  if (const Datum* p = d.find("parallel"); p && std::holds_alternative<int64_t>(p->v))
    s.parallel = static_cast<int>(std::get<int64_t>(p->v));
  if (const Datum* e = d.find("provisioning_env"); e && e->is_string()) s.provisioning_env = e->str();
  if (const Datum* doc = d.find("document")) s.document = *doc;
  if (const Datum* c = d.find("config")) s.config = *c;
  if (const Datum* n = d.find("config_secrets"); n && std::holds_alternative<int64_t>(n->v) && std::get<int64_t>(n->v) > 0)
    s.config_secret_count = static_cast<size_t>(std::get<int64_t>(n->v));
  return s;
}

std::string create_workflow(WorkflowStore& store, WorkflowSubmission submission) {
  submission.state_dir = store.local_path();
  return store.create_workflow(
      [&](const std::string& id) {
        submission.workflow_id = id;
        return submission.to_datum();
      },
      submission.config_secret_count > 0 ? submission.config_secrets : Datum());
}

Datum submission_config(const WorkflowStore& store, const WorkflowSubmission& submission) {
  if (submission.config_secret_count == 0) return submission.config;
  const std::string where = store.private_config_location(submission.workflow_id);
  std::optional<Datum> hidden = store.read_private_config(submission.workflow_id);
  if (!hidden)
    throw ResourceError("provisioning::state::corrupt_secrets",
                        "the secrets of workflow " + submission.workflow_id + "'s configuration are missing: " +
                            where + " does not exist",
                        "submit the workflow again");
  if (!hidden->is_list() || hidden->list().size() != submission.config_secret_count)
    throw ResourceError("provisioning::state::corrupt_secrets",
                        "the secrets file " + where + " does not hold the secrets the journal counts",
                        "submit the workflow again");
  return join_secrets(submission.config, *hidden);
}

Datum journal_record(const Event& e, const Datum& undo) {
  Datum d = e.to_datum();
  if (!undo.is_null()) d.set("$undo", undo);
  return d;
}

WorkflowHistory history_from(const Datum& header, std::vector<Datum> records) {
  WorkflowHistory h;
  h.submission = WorkflowSubmission::from_datum(header);
  for (auto& rec : records) {
    if (is_checkpoint(rec)) {
      expand_checkpoint(rec, h.events, h.undo);
      continue;
    }
    Datum undo;
    if (rec.is_record()) {
      auto& fields = rec.record();
      for (auto it = fields.begin(); it != fields.end(); ++it)
        if (it->first == "$undo") {
          undo = std::move(it->second);
          fields.erase(it);
          break;
        }
    }
    h.events.push_back(Event::from_datum(rec));
    h.undo.push_back(std::move(undo));
  }
  return h;
}

WorkflowHistory read_history(const WorkflowStore& store, const std::string& id) {
  Journal::Recovery r = store.read_journal(id);
  WorkflowHistory h = history_from(r.header, std::move(r.records));
  h.tail_damaged = r.tail_damaged;
  h.tail_problem = r.tail_problem;
  return h;
}

bool is_terminal(const Event& e) {
  return e.type == event_type::workflow_completed || e.type == event_type::workflow_failed ||
         e.type == event_type::workflow_cancelled;
}

Datum WorkflowStatus::to_datum() const {
  DatumList undone;
  for (const auto& u : undo_failed) undone.emplace_back(u);
  DatumRecord r{{"workflow_id", Datum(workflow_id)},
                {"name", Datum(name)},
                {"status", Datum(status)},
                {"total", Datum(static_cast<int64_t>(total))},
                {"succeeded", Datum(static_cast<int64_t>(succeeded))},
                {"failed", Datum(static_cast<int64_t>(failed))},
                {"skipped", Datum(static_cast<int64_t>(skipped))},
                {"running", Datum(static_cast<int64_t>(running))},
                {"rolled_back", Datum(static_cast<int64_t>(rolled_back))},
                {"phase", phase.empty() ? Datum() : Datum(phase)},
                {"cause", cause.empty() ? Datum() : Datum(cause)},
                {"undo_failed", Datum(std::move(undone))},
                {"started", started ? Datum(*started) : Datum()},
                {"finished", finished ? Datum(*finished) : Datum()},
                {"duration", duration ? Datum(to_millis(*duration)) : Datum()},
                {"runner_pid", runner_pid ? Datum(*runner_pid) : Datum()},
                {"runner_host", runner_host.empty() ? Datum() : Datum(runner_host)}};
  if (!problem.empty()) r.emplace_back("problem", Datum(problem));
  return Datum(std::move(r));
}

std::vector<std::string> operation_ids(const WorkflowSubmission& sub) {
  std::vector<std::string> ids;
  if (const Datum* ops = sub.document.find("operations"); ops && ops->is_list())
    for (const auto& o : ops->list())
      if (const Datum* i = o.find("id"); i && i->is_string()) ids.push_back(i->str());
  return ids;
}

WorkflowStatus workflow_status(const WorkflowHistory& h, bool runner_alive) {
  WorkflowStatus s;
  s.workflow_id = h.submission.workflow_id;
  if (const Datum* n = h.submission.document.find("name"); n && n->is_string()) s.name = n->str();
  if (const Datum* ops = h.submission.document.find("operations"); ops && ops->is_list()) s.total = ops->list().size();
  const WorkflowState w = fold_events(operation_ids(h.submission), h.events, h.undo);
  const StateCounts c = w.counts();
  s.succeeded = c.succeeded;
  s.failed = c.failed;
  s.skipped = c.skipped;
  s.rolled_back = c.rolled_back;
  s.running = c.running;
  s.undo_failed = w.undo_failed();
  s.started = w.started_at();
  s.finished = w.finished_at();
  s.duration = w.duration();
  // From the first start to the last end, as `started` and `finished` show them: a resumed
  // workflow's terminal event holds only its last run's time.
  if (s.started && s.finished) {
    const auto from = utc_nanos(*s.started), to = utc_nanos(*s.finished);
    if (from && to && *to >= *from) s.duration = Duration{*to - *from};
  }
  if (w.started()) s.phase = to_string(w.phase());
  if (w.phase() == WorkflowPhase::rollback) s.cause = w.cause();
  if (runner_alive) {
    s.status = w.started() ? "running" : "pending";  // running, or rolling back after the fact
  } else if (w.ended()) {
    s.status = w.outcome();
  } else {
    s.status = w.started() ? "interrupted" : "pending";
    s.running = 0;
  }
  if (h.tail_damaged) s.problem = "journal tail damaged: " + h.tail_problem;
  return s;
}

WorkflowStatus workflow_status(const WorkflowStore& store, const std::string& id) {
  // Whether a runner holds it, asked before the journal is read: a runner that ends in between
  // has journaled its end, so a free claim and a journal without an end mean interrupted.
  const std::optional<ClaimHolder> holder = store.claim_holder(id);
  WorkflowStatus s = workflow_status(read_history(store, id), holder.has_value());
  s.workflow_id = id;
  if (holder) {
    s.runner_pid = holder->pid;
    s.runner_host = holder->host.empty() ? this_host_name() : holder->host;
  }
  return s;
}

}  // namespace prov
