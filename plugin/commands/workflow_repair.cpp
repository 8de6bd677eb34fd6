#include "plugin/commands/workflow_repair.hpp"

#include "core/engine/journal_repair.hpp"
#include "plugin/commands/completions.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

Signature WorkflowRepairCommand::signature() const {
  Signature s;
  s.name = "prov workflow repair";
  s.description = "Repair a workflow whose journal is damaged: keep its intact records, report the transitions lost.";
  s.extra_description =
      "`status`, `resume` and `rollback` refuse a corrupt journal (provisioning::state::corrupt_journal: a record "
      "that no crash can leave damaged). This keeps the records before the damaged one and cuts off the rest: "
      "their bytes are kept beside the journal in journal.damaged-<byte>, and `lost` and `lost_transitions` say "
      "what they held, as far as it can be decoded. The repair is journaled as a journal_repaired event. "
      "Afterwards the workflow stands as its kept records say: `resume` runs again what they do not show finished. "
      "A journal that is whole is left as it is (repaired: false).";
  s.search_terms = {"corrupt", "journal", "recover", "fix", "damaged"};
  s.required = {{"id", "The workflow's id, as `prov workflow list` shows it", shape::string()}};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workflow repair (prov workflow list | first | get workflow_id) | select repaired kept_records",
                 "A whole journal is left as it is (here: after workflows/deploy.toml ran; its journal is folded "
                 "into one checkpoint)",
                 Value::record({{"repaired", Value::boolean(false)}, {"kept_records", Value::integer(1)}})}};
  return s;
}

Suggestions WorkflowRepairCommand::complete(EngineInterface& engine, const GetCompletionInfo& info) const {
  if (asks_positional(info, 0)) return workflow_ids(engine, info.call);
  return complete_shared_flags(engine, info);
}

PipelineOutput WorkflowRepairCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  if (call.positional.empty() || !call.positional[0].is(Value::Type::String))
    throw labeled("Missing the workflow id", "needs an id such as wf-20261126-203000-1a2b3c", call.head,
                  "provisioning::input::missing_argument", "`prov workflow list` shows the ids");
  const std::string id = call.positional[0].as_string();
  const std::unique_ptr<prov::WorkflowStore> store = open_store(load_workspace_config(engine, call, nullptr));
  try {
    return PipelineOutput::of(to_value(repair_journal(*store, id).to_datum(), call.head));
  } catch (prov::Error& e) {
    e.blamed_on(Blame::argument("id"));
    throw;
  }
}

}  // namespace prov::plugin
