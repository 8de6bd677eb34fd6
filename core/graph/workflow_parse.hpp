#pragma once
/// Workflows from records and files. Every field is checked and every problem is reported at
/// once: a workflow author fixes them in one go, not one per run.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph/dag.hpp"
#include "core/graph/workflow.hpp"
#include "core/support/datum.hpp"
#include "core/support/limits.hpp"

namespace prov {

/// The operation kinds a workflow may use, in the order DESIGN.md lists them.
const std::vector<std::string>& workflow_kinds();

/// Reads and validates a workflow: `name`, optional `settings`, `operations` with their kind's
/// fields, unique ids, known dependencies, no cycles. `origin` (a file path, or "pipeline
/// input") names the document in messages. A field set to null counts as absent. An
/// operation's `fields` is its whole record as given; `retry` is filled from the settings.
/// Throws WorkflowError blamed on the input: the problem itself when there is one, else
/// `provisioning::workflow::invalid` with one related error per problem, each with its code.
/// When `dag` is given it receives make_dag() of the result, which validation builds anyway.
/// `base` are the settings the workflow's own `settings` override field by field (for a run:
/// workspace_settings() of its configuration).
WorkflowSpec parse_workflow(const Datum& doc, const std::string& origin, Dag* dag = nullptr,
                            const WorkflowSettings& base = {});
/// The same, moving the operations' records out of `doc` into their `fields` instead of
/// copying them; `doc` is left unspecified.
WorkflowSpec parse_workflow(Datum&& doc, const std::string& origin, Dag* dag = nullptr,
                            const WorkflowSettings& base = {});

/// The run settings a workspace's merged configuration gives: its `[workflow]` table's
/// `parallel`, `retry` (per field), `timeout` and `rollback_on_failure` over the built-in ones;
/// its other keys are not run settings and are left alone. Throws ConfigError with the code a
/// workflow's settings would get (`provisioning::config::bad_duration`, `::wrong_type`, …).
WorkflowSettings workspace_settings(const Datum& config);

/// Throws LimitError (`provisioning::limits::depth` or `::operations`, blamed on the input)
/// when `doc` nests deeper or has more operations than `limits` allow. parse_workflow checks
/// this process's limits (Limits::process()) first; a caller that knows the workspace's
/// `[limits]` checks those too.
void check_workflow_limits(const Datum& doc, const std::string& origin, const Limits& limits);

/// Reads a workflow file, `.toml` or `.json` by its extension, into a record for
/// parse_workflow, keeping the key order written. Throws WorkflowError
/// `provisioning::workflow::unknown_format` (another extension), `::not_found`, `::read`, or
/// `::parse` positioned at the syntax error.
Datum load_workflow_file(const std::string& path);

struct StreamedOperations;

/// A workflow file as read_workflow_file reads it: for a JSON file the fast reader takes (the
/// usual case), its operations read and checked one at a time and their records dropped, so
/// that a large workflow is never held whole; else (TOML, or JSON that reader leaves to the
/// other) the whole document.
struct WorkflowFile {
  std::string path;
  /// The document. When `streamed` is set its `operations` is an empty list (the place of the
  /// list read one at a time), and the other members may be changed before parsing (--vars).
  Datum document;
  std::shared_ptr<StreamedOperations> streamed;
  size_t depth = 0;  ///< how deep the document nests, when streamed (1: a record of scalars)

  size_t operation_count() const;
  /// Whether the document is over `limits` (depth or operations); only said when streamed.
  bool exceeds(const Limits& limits) const;
  /// Each operation's record, in order (nullptr for one that is not a record). When streamed,
  /// what read_workflow_file kept of it: the fields named in `keep` and `output`, with `id`
  /// and `kind`; nullptr for an operation with none of them.
  std::vector<const Datum*> operation_records() const;
};

/// Reads a workflow file as load_workflow_file does, with the same errors, without holding the
/// whole document when it can (see WorkflowFile). Of each operation's record it keeps the
/// fields named in `keep` (and `output`, which tells the shape of its result); the others are
/// checked as the record is read, then dropped.
WorkflowFile read_workflow_file(const std::string& path, const std::vector<std::string>& keep = {});

/// parse_workflow of the document `file` holds: the same spec and the same errors, except that
/// a streamed operation's `fields` hold only what read_workflow_file kept (so the spec serves
/// planning, not running). When the file is over this process's limits, it is read again whole
/// and parse_workflow says so.
WorkflowSpec parse_workflow_file(WorkflowFile&& file, const std::string& origin, Dag* dag = nullptr,
                                 const WorkflowSettings& base = {});

/// The whole document of `file`: its document, with the operations read again from the file
/// when they were streamed.
Datum whole_document(WorkflowFile&& file);

/// Reads JSON text into a Datum keeping the key order written; `path` names it in errors.
/// Throws WorkflowError `provisioning::workflow::parse` positioned at the syntax error.
Datum parse_workflow_json(std::string_view text, const std::string& path);

/// What a workflow document holds in place of closure `index` of the Nu session that ran it:
/// closures cannot be journaled (closure_channel.hpp evaluates them).
Datum closure_reference(int64_t index);
/// The index of `d` when it is a closure reference, else nullopt.
std::optional<int64_t> closure_reference_index(const Datum& d);

}  // namespace prov
