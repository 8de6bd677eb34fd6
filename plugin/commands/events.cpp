#include "plugin/commands/events.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>

#include "core/events/log_watch.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

/// The events being read: a feed of the store's, once its state folder exists.
struct Logs {
  prov::Config config;
  std::unique_ptr<WorkflowStore> store;  ///< none until the first workflow makes its folder
  std::optional<std::string> only;       ///< --workflow
  std::unique_ptr<EventFeed> feed;

  /// What the workflows (or the one) appended since the last call, in time order.
  std::vector<Event> poll() {
    if (!store) store = existing_store(config);
    if (!store) return {};
    if (!feed) feed = store->follow(only);
    return feed->poll();
  }
  /// Until there may be more, or one of `fds`; before the state folder exists, only the timeout.
  void wait(std::chrono::milliseconds timeout, std::initializer_list<int> fds) {
    if (feed) {
      if (only) feed->watch_runner(*only);
      feed->wait(timeout, fds);
      return;
    }
    LogWatch idle;
    idle.wait(timeout, fds);
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
      "(new ones included) appends, until Ctrl-C or the pipeline stops reading. With --workflow too, following "
      "ends when that workflow has ended (at once for one that has already ended): no runner holds it and every "
      "event it wrote has been streamed.";
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
  logs->store = existing_store(logs->config);
  if (const Value* w = call.flag_value("workflow")) {
    if (!w->is(Value::Type::String))
      throw labeled("--workflow takes a workflow id", "expected a string", w->span, "provisioning::input::wrong_type");
    if (!logs->store)
      throw labeled("No workflow " + w->as_string() + " in this workspace", "no workflow has run here", w->span,
                    "provisioning::workflow::unknown_id", "`prov workflow list` shows the ids");
    try {
      logs->store->check_workflow_id(w->as_string());
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
          // Following one workflow ends with it: once no runner holds it (asked before the
          // read, so that what a runner wrote before letting go is read) and all is streamed.
          const bool ended = logs->only && !logs->store->claim_holder(*logs->only);
          for (auto& e : logs->poll()) pending->push_back(std::move(e));
          if (!pending->empty()) continue;
          if (ended) return std::nullopt;
          // Until a log grows, a workflow appears, the runner ends or Ctrl-C; the timeout only
          // notices a dropped stream (and logs whose folder cannot be watched).
          logs->wait(std::chrono::seconds(1), {engine.signals().wake_fd()});
        }
        return std::nullopt;
      },
      h);
  out.dropped = std::move(dropped);
  return out;
}

}  // namespace prov::plugin
