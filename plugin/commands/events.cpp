#include "plugin/commands/events.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <thread>

#include "core/events/event_log.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

/// The event logs being read: one reader per workflow, in order of discovery.
struct Logs {
  prov::Config config;
  std::optional<StateDir> state;  ///< none until the first workflow makes it
  std::optional<std::string> only;  ///< --workflow
  std::map<std::string, EventLogReader> readers;

  /// What every log gained since the last call, workflows that appeared since included, in
  /// time order (events of one workflow keep their order).
  std::vector<Event> poll() {
    if (!state) state = existing_state_dir(config);
    if (!state) return {};
    if (only) {
      if (readers.empty()) readers.emplace(*only, EventLogReader(state->events_path(*only)));
    } else {
      for (const auto& id : state->list_workflows())
        if (!readers.count(id)) readers.emplace(id, EventLogReader(state->events_path(id)));
    }
    std::vector<Event> out;
    for (auto& [id, reader] : readers) {
      auto more = reader.poll();
      out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    // Event times are UTC RFC 3339 text of one format: their text order is their time order.
    std::stable_sort(out.begin(), out.end(),
                     [](const Event& a, const Event& b) { return a.time.rfc3339 < b.time.rfc3339; });
    return out;
  }
};

Value event_row(const Event& e, Span h) { return to_value(e.to_datum(), h); }

}  // namespace

Signature EventsCommand::signature() const {
  Signature s;
  s.name = "prov events";
  s.description = "The events of every workflow of the workspace, oldest first; --follow goes on streaming new ones.";
  s.extra_description =
      "Each event is a record with time, workflow_id, type and, where they apply, operation, attempt, exit_code, "
      "duration, message and resource. With --follow the existing events come first, then what any workflow "
      "(new ones included) appends, until Ctrl-C or the pipeline stops reading.";
  s.search_terms = {"event log", "history", "audit", "tail", "watch"};
  s.named = workspace_flags();
  s.named.push_back({"workflow", std::nullopt, shape::string(), "Only this workflow's events", false});
  s.named.push_back({"follow", 'f', std::nullopt, "Keep streaming events as workflows append them", false});
  s.input_output_types = {{type::nothing(), type::table()}};
  s.examples = {{"prov events | where type =~ workflow | get type",
                 "How each workflow of the workspace started and ended (here: workflows/deploy.toml, run once)",
                 strings({"workflow_started", "workflow_completed"})},
                {"prov workflow submit workflows/broken.toml | ignore; "
                 "prov events --follow | where type == workflow_failed | first | get operation? | is-empty",
                 "Wait for the next workflow failure, streaming events as they come (here: one submitted just before)",
                 Value::boolean(true)}};
  return s;
}

Suggestions EventsCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_flag(info, "workflow")) return workflow_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput EventsCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  auto logs = std::make_shared<Logs>();
  logs->config = load_workspace_config(engine, call, nullptr);
  logs->state = existing_state_dir(logs->config);
  if (const Value* w = call.flag_value("workflow")) {
    if (!w->is(Value::Type::String))
      throw labeled("--workflow takes a workflow id", "expected a string", w->span, "provisioning::input::wrong_type");
    if (!logs->state)
      throw labeled("No workflow " + w->as_string() + " in this workspace", "no workflow has run here", w->span,
                    "provisioning::workflow::unknown_id", "`prov workflow list` shows the ids");
    try {
      logs->state->check_workflow_id(w->as_string());
    } catch (prov::Error& e) {
      e.blamed_on(Blame::flag("workflow"));
      throw;
    }
    logs->only = w->as_string();
  }
  const Span h = call.head;
  if (!call.has_flag("follow")) {
    std::vector<Value> rows;
    for (const auto& e : logs->poll()) rows.push_back(event_row(e, h));
    return PipelineOutput::of(Value::list(std::move(rows), h));
  }
  auto pending = std::make_shared<std::deque<Event>>();
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  PipelineOutput out = PipelineOutput::stream(
      [logs, pending, dropped, &engine, h]() -> std::optional<Value> {
        while (!*dropped && !engine.interrupted()) {
          if (!pending->empty()) {
            Event e = std::move(pending->front());
            pending->pop_front();
            return event_row(e, h);
          }
          for (auto& e : logs->poll()) pending->push_back(std::move(e));
          if (pending->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return std::nullopt;
      },
      h);
  out.dropped = std::move(dropped);
  return out;
}

}  // namespace prov::plugin
