#include "service/api.hpp"

#include <algorithm>

#include "core/config/config.hpp"
#include "core/engine/preflight.hpp"
#include "core/engine/submit.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/engine/workflow_runner.hpp"
#include "core/events/op_log.hpp"
#include "core/graph/dag.hpp"
#include "core/providers/catalog.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/version.hpp"
#include "service/envelope.hpp"
#include "service/openapi.hpp"

namespace prov::service {

const std::string* ApiRequest::query_value(const std::string& name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

namespace {

/// The workspace's configuration now, as a command run in it with the service's environment
/// would load it; `runtime` is the runtime layer (the seed's `configuration`).
Config workspace_config(const ServiceContext& ctx, const Datum& runtime = Datum()) {
  ConfigRequest req;
  req.cwd = ctx.workspace;
  req.workspace_flag = ctx.workspace;
  req.env = ctx.env;
  if (runtime.is_record()) req.runtime = runtime;
  return load_config(req);
}

/// The Nu that `nu` operations run in: workflow.nu_path, else `nu` from PATH.
std::string nu_for(const Config& config) {
  if (const Datum* wf = config.merged.find("workflow"))
    if (const Datum* p = wf->find("nu_path"); p && p->is_string() && !p->str().empty()) return p->str();
  return "nu";
}

/// Workflow `id` from a path, checked before any file is touched: the shape first, then the store.
const std::string& workflow_param(const ApiRequest& r, ServiceContext& ctx) {
  const std::string& id = r.params.at(0);
  if (!is_workflow_id(id))
    throw WorkflowError("provisioning::workflow::unknown_id",
                        "'" + id.substr(0, 64) + "' is not a workflow id",
                        "ids look like wf-20261206-101500-1a2b3c; GET /workflows lists them");
  ctx.store->check_workflow_id(id);
  return id;
}

size_t count_param(const ApiRequest& r, const char* name, size_t fallback) {
  const std::string* v = r.query_value(name);
  if (!v) return fallback;
  if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos)
    throw Error("provisioning::input::bad_value", std::string("query parameter '") + name + "' must be a whole number, not '" +
                                                      v->substr(0, 32) + "'");
  return static_cast<size_t>(std::stoul(*v));
}

Datum parse_body(const ApiRequest& r, const ServiceContext& ctx) {
  if (r.body.size() > static_cast<size_t>(ctx.limits.request_size))
    throw LimitError("provisioning::limits::request_size",
                     "the request body has " + std::to_string(r.body.size()) + " bytes, over the limit of " +
                         std::to_string(ctx.limits.request_size) + " (limits.request_size)",
                     limit_help("request_size"));
  Datum d;
  try {
    d = decode_json(r.body);
  } catch (const Error& e) {
    throw Error("provisioning::input::bad_json", std::string("the request body is not JSON: ") + e.what(),
                "send a workflow document as JSON (Content-Type: application/json)");
  }
  check_depth(d, ctx.limits, "the request body");
  return d;
}

/// The seed's submission form as a workflow document: a `{headers, body}` wrapper (what the
/// seed's `http post` sends) is opened; `workflow_id` is dropped (the service names workflows);
/// `dependencies` ({op: [ids]}) joins each operation's depends_on; `configuration` becomes the
/// run's runtime configuration layer, returned in `runtime`.
Datum seed_document(Datum doc, Datum& runtime) {
  if (doc.is_record() && !doc.find("operations"))
    if (const Datum* body = doc.find("body"); body && body->is_string()) {
      try {
        doc = decode_json(body->str());
      } catch (const Error& e) {
        throw Error("provisioning::input::bad_json", std::string("the submission's body is not JSON: ") + e.what());
      }
    }
  if (!doc.is_record()) return doc;
  DatumRecord out;
  const Datum* deps = doc.find("dependencies");
  for (auto& [k, v] : doc.record()) {
    if (k == "workflow_id" || k == "dependencies") continue;
    if (k == "configuration") {
      runtime = v;
      continue;
    }
    out.emplace_back(k, v);
  }
  Datum result(std::move(out));
  if (deps && deps->is_record())
    if (Datum* ops = result.find("operations"); ops && ops->is_list())
      for (Datum& op : ops->list()) {
        const Datum* id = op.is_record() ? op.find("id") : nullptr;
        if (!id || !id->is_string()) continue;
        const Datum* extra = deps->find(id->str());
        if (!extra || !extra->is_list()) continue;
        Datum* mine = op.find("depends_on");
        if (!mine) {
          op.set("depends_on", Datum(DatumList{}));
          mine = op.find("depends_on");
        }
        if (mine->is_list())
          for (const Datum& d : extra->list())
            if (std::find(mine->list().begin(), mine->list().end(), d) == mine->list().end()) mine->list().push_back(d);
      }
  return result;
}

ApiResponse submit(const ApiRequest& r, ServiceContext& ctx, bool seed_form) {
  Datum runtime;
  Datum doc = parse_body(r, ctx);
  if (seed_form) doc = seed_document(std::move(doc), runtime);
  const Config config = workspace_config(ctx, runtime);
  const PreflightContext pre{ctx.workspace, &config.merged, nu_for(config)};
  Dag dag;
  preflight_workflow(doc, "the HTTP request", pre, &dag);
  SubmitRequest req;
  req.document = std::move(doc);
  req.origin = "HTTP request " + r.request_id;
  req.workspace = ctx.workspace;
  req.nu_path = nu_for(config);
  req.env = ctx.env;
  req.runner_exe = ctx.plugin_exe;
  const std::string id = submit_workflow(*ctx.store, config.merged, req);
  ApiResponse out;
  out.status = 201;
  out.data = Datum(DatumRecord{{"workflow_id", Datum(id)}, {"status", Datum(workflow_status(*ctx.store, id).status)}});
  return out;
}

Datum events_datum(const std::vector<Event>& events) {
  DatumList list;
  list.reserve(events.size());
  for (const Event& e : events) list.push_back(e.to_datum());
  return Datum(std::move(list));
}

bool wants_stream(const ApiRequest& r) { return r.accept.find("text/event-stream") != std::string::npos; }

ApiResponse restart(const ApiRequest& r, ServiceContext& ctx, RunnerMode mode) {
  const std::string& id = workflow_param(r, ctx);
  if (ctx.store->claim_holder(id))
    throw WorkflowError("provisioning::workflow::running", "workflow " + id + " is running",
                        "wait for it, or cancel it: POST /workflows/" + id + "/cancel");
  const WorkflowStatus st = workflow_status(*ctx.store, id);
  if (mode == RunnerMode::resume && st.status != "interrupted" && st.status != "pending")
    throw WorkflowError("provisioning::workflow::already_ended",
                        "workflow " + id + " has ended (" + st.status + "): nothing to resume");
  launch_runner(ctx.plugin_exe, *ctx.store, ctx.workspace, id, mode, ctx.env);
  ApiResponse out;
  out.status = 202;
  out.envelope_status = "pending";
  out.data = Datum(DatumRecord{{"workflow_id", Datum(id)}, {"status", Datum(workflow_status(*ctx.store, id).status)}});
  return out;
}

ApiResponse cancel(const ApiRequest& r, ServiceContext& ctx) {
  const std::string& id = workflow_param(r, ctx);
  if (!signal_runner(*ctx.store, id))
    throw WorkflowError("provisioning::workflow::not_running",
                        "workflow " + id + " is not running (" + workflow_status(*ctx.store, id).status + ")");
  ApiResponse out;
  out.status = 202;
  out.envelope_status = "pending";
  out.data = Datum(DatumRecord{{"workflow_id", Datum(id)}, {"status", Datum("cancelling")}});
  return out;
}

ApiResponse data(Datum d) {
  ApiResponse out;
  out.data = std::move(d);
  return out;
}

std::vector<ApiRoute> make_routes() {
  std::vector<ApiRoute> routes;
  const ApiParam id{"id", "path", "a workflow id (wf-YYYYMMDD-HHMMSS-xxxxxx)"};
  routes.push_back({"GET", "/health", "Liveness and version", false, {}, nullptr,
                    "{status: \"ok\", version, uptime_ms}", false, [](const ApiRequest&, ServiceContext& ctx) {
                      const auto up = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - ctx.started);
                      return data(Datum(DatumRecord{{"status", Datum("ok")},
                                                    {"version", Datum(std::string(kVersion))},
                                                    {"uptime_ms", Datum(static_cast<int64_t>(up.count()))}}));
                    }});
  routes.push_back({"GET", "/workflows", "The workflows, newest first, each its status record", true,
                    {{"status", "query", "only workflows with this status"},
                     {"limit", "query", "at most this many (default 100)"},
                     {"offset", "query", "skip this many first (default 0)"}},
                    nullptr, "a list of status records (as GET /workflows/{id}/status)", false,
                    [](const ApiRequest& r, ServiceContext& ctx) {
                      const size_t limit = count_param(r, "limit", 100), offset = count_param(r, "offset", 0);
                      const std::string* only = r.query_value("status");
                      DatumList rows;
                      size_t skipped = 0;
                      for (const auto& wid : ctx.store->list_workflows()) {
                        if (rows.size() >= limit) break;
                        Datum row;
                        try {
                          row = workflow_status(*ctx.store, wid).to_datum();
                        } catch (const Error& e) {
                          row = Datum(DatumRecord{{"workflow_id", Datum(wid)},
                                                  {"status", Datum(e.code() == "provisioning::state::corrupt_journal"
                                                                       ? "corrupt"
                                                                       : "unreadable")},
                                                  {"problem", Datum(std::string(e.what()))}});
                        }
                        if (only && row.find("status")->str() != *only) continue;
                        if (skipped++ < offset) continue;
                        rows.push_back(std::move(row));
                      }
                      return data(Datum(std::move(rows)));
                    }});
  routes.push_back({"POST", "/workflows", "Submit a workflow (as `prov workflow submit` takes it)", true, {},
                    "a workflow document: {name, settings?, operations: [...]}", "{workflow_id, status}", false,
                    [](const ApiRequest& r, ServiceContext& ctx) { return submit(r, ctx, false); }});
  routes.push_back({"POST", "/workflows/submit", "Submit a workflow in the seed's form", true, {},
                    "a workflow document, or the seed's {workflow_id?, name, operations, dependencies?, configuration?}, "
                    "or that wrapped as {headers, body: <JSON text>}; workflow_id is ignored (the service names "
                    "workflows), dependencies ({op: [ids]}) join depends_on, configuration is the run's runtime layer",
                    "{workflow_id, status}", false,
                    [](const ApiRequest& r, ServiceContext& ctx) { return submit(r, ctx, true); }});
  routes.push_back({"GET", "/workflows/{id}", "One workflow: its document and status", true, {id}, nullptr,
                    "{workflow_id, name, document, origin, status: <status record>}", false,
                    [](const ApiRequest& r, ServiceContext& ctx) {
                      const std::string& wid = workflow_param(r, ctx);
                      const WorkflowHistory h = read_history(*ctx.store, wid);
                      const WorkflowStatus st = workflow_status(*ctx.store, wid);
                      return data(Datum(DatumRecord{{"workflow_id", Datum(wid)},
                                                    {"name", st.name.empty() ? Datum() : Datum(st.name)},
                                                    {"document", h.submission.document},
                                                    {"origin", Datum(h.submission.origin)},
                                                    {"status", st.to_datum()}}));
                    }});
  routes.push_back({"GET", "/workflows/{id}/status", "A workflow's status record (as `prov workflow status`)", true,
                    {id}, nullptr, "the status record", false, [](const ApiRequest& r, ServiceContext& ctx) {
                      return data(workflow_status(*ctx.store, workflow_param(r, ctx)).to_datum());
                    }});
  routes.push_back({"GET", "/workflows/{id}/events",
                    "A workflow's events; with Accept: text/event-stream, streamed live until it ends", true, {id},
                    nullptr, "a list of events (SSE: one `event: <type>` with `data: <event JSON>` each)", true,
                    [](const ApiRequest& r, ServiceContext& ctx) {
                      const std::string& wid = workflow_param(r, ctx);
                      if (!wants_stream(r)) return data(events_datum(ctx.store->read_events(wid)));
                      ApiResponse out;
                      out.feed = ctx.store->follow(wid);
                      out.stream_until = wid;
                      return out;
                    }});
  routes.push_back({"GET", "/workflows/{id}/logs", "A workflow's events, or with ?op= one operation's output", true,
                    {id, {"op", "query", "an operation id: its output as text/plain"}}, nullptr,
                    "a list of events; with op, the output text", false,
                    [](const ApiRequest& r, ServiceContext& ctx) {
                      const std::string& wid = workflow_param(r, ctx);
                      const std::string* op = r.query_value("op");
                      if (!op) return data(events_datum(ctx.store->read_events(wid)));
                      const std::vector<std::string> ops = operation_ids(read_history(*ctx.store, wid).submission);
                      if (std::find(ops.begin(), ops.end(), *op) == ops.end())
                        throw WorkflowError("provisioning::workflow::unknown_operation",
                                            "no operation '" + op->substr(0, 64) + "' in workflow " + wid);
                      ApiResponse out;
                      std::string text;
                      if (UniqueFd fd = ctx.store->open_operation_log(wid, *op)) {
                        OpLogReader reader;
                        std::vector<OpLogLine> lines;
                        char buf[65536];
                        ssize_t n;
                        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
                          reader.feed(std::string_view(buf, static_cast<size_t>(n)), lines);
                          append_op_log_text(text, lines);
                          lines.clear();
                        }
                        reader.finish(lines);
                        append_op_log_text(text, lines);
                      }
                      out.text = std::move(text);
                      return out;
                    }});
  routes.push_back({"DELETE", "/workflows/{id}", "Cancel a running workflow", true, {id}, nullptr,
                    "{workflow_id, status: \"cancelling\"}", false, cancel});
  routes.push_back({"POST", "/workflows/{id}/cancel", "Cancel a running workflow", true, {id}, nullptr,
                    "{workflow_id, status: \"cancelling\"}", false, cancel});
  routes.push_back({"POST", "/workflows/{id}/resume", "Resume an interrupted workflow (as `prov workflow resume`)", true,
                    {id}, nullptr, "{workflow_id, status}", false,
                    [](const ApiRequest& r, ServiceContext& ctx) { return restart(r, ctx, RunnerMode::resume); }});
  routes.push_back({"POST", "/workflows/{id}/rollback", "Roll a workflow back (as `prov workflow rollback`)", true, {id},
                    nullptr, "{workflow_id, status}", false,
                    [](const ApiRequest& r, ServiceContext& ctx) { return restart(r, ctx, RunnerMode::rollback); }});
  routes.push_back({"GET", "/events", "Every workflow's events; with Accept: text/event-stream, streamed live", true, {},
                    nullptr, "a list of events, oldest first", true, [](const ApiRequest& r, ServiceContext& ctx) {
                      if (!wants_stream(r)) {
                        std::unique_ptr<EventFeed> feed = ctx.store->follow(std::nullopt);
                        return data(events_datum(feed->poll()));
                      }
                      ApiResponse out;
                      out.feed = ctx.store->follow(std::nullopt);
                      return out;
                    }});
  routes.push_back({"GET", "/providers", "The workspace's providers", true, {}, nullptr,
                    "a list of {name, kind, path, problem}", false, [](const ApiRequest&, ServiceContext& ctx) {
                      const Config config = workspace_config(ctx);
                      DatumList rows;
                      const ProviderCatalog catalog = ProviderCatalog::discover(config.merged, ctx.workspace);
                      for (const ProviderInfo& p : catalog.all())
                        rows.emplace_back(DatumRecord{{"name", Datum(p.name)},
                                                      {"kind", Datum(p.kind)},
                                                      {"path", p.path.empty() ? Datum() : Datum(p.path)},
                                                      {"problem", p.problem.empty() ? Datum() : Datum(p.problem)}});
                      return data(Datum(std::move(rows)));
                    }});
  routes.push_back({"GET", "/servers", "The servers every usable provider reports", true, {}, nullptr,
                    "a list of Server records; a provider that failed gives one row {provider, error}", false,
                    [](const ApiRequest&, ServiceContext& ctx) {
                      const Config config = workspace_config(ctx);
                      DatumList rows;
                      const ProviderCatalog catalog = ProviderCatalog::discover(config.merged, ctx.workspace);
                      for (const ProviderInfo& p : catalog.all()) {
                        if (!p.problem.empty()) continue;
                        try {
                          ProviderContext pc;
                          pc.workspace = ctx.workspace;
                          pc.state_dir = ctx.store->local_path();
                          pc.env = ctx.env;
                          pc.nu_path = nu_for(config);
                          for (const Server& s : open_provider(p, pc, ctx.plugin_exe)->list()) rows.push_back(s.to_datum());
                        } catch (const Error& e) {
                          rows.emplace_back(DatumRecord{{"provider", Datum(p.name)},
                                                        {"error", Datum(DatumRecord{{"code", Datum(e.code())},
                                                                                    {"message", Datum(std::string(e.what()))}})}});
                        }
                      }
                      return data(Datum(std::move(rows)));
                    }});
  routes.push_back({"GET", "/openapi.json", "This API's OpenAPI 3 description", true, {}, nullptr,
                    "the OpenAPI document (not in an envelope)", false, [](const ApiRequest&, ServiceContext&) {
                      ApiResponse out;
                      out.text = http_json(openapi_document());
                      out.content_type = "application/json";
                      return out;
                    }});
  return routes;
}

}  // namespace

const std::vector<ApiRoute>& api_routes() {
  static const std::vector<ApiRoute> routes = make_routes();
  return routes;
}

}  // namespace prov::service
