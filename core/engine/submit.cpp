#include "core/engine/submit.hpp"

#include "core/engine/workflow_record.hpp"
#include "core/engine/workflow_runner.hpp"

namespace prov {

std::string submit_workflow(WorkflowStore& store, const Datum& config, const SubmitRequest& request) {
  WorkflowSubmission sub;
  sub.workspace = request.workspace;
  sub.document = request.document;
  sub.origin = request.origin;
  sub.provisioning_env = request.provisioning_env;
  sub.parallel = request.parallel;
  sub.nu_path = request.nu_path;
  sub.keep_config(config);
  const std::string id = create_workflow(store, sub);
  if (!request.launch) return id;
  if (request.before_launch) request.before_launch(id);
  launch_runner(request.runner_exe, store, request.workspace, id, RunnerMode::run, request.env);
  return id;
}

}  // namespace prov
