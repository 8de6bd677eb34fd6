#pragma once
/// The service's routes: one table (api_routes()) that the HTTP server registers and the OpenAPI
/// description (openapi.hpp) is written from, so the two cannot disagree.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/state/workflow_store.hpp"
#include "core/support/datum.hpp"
#include "core/support/limits.hpp"
#include "core/support/subprocess.hpp"

namespace prov::service {

/// What the handlers share: the workspace, its store, the binaries to start, the limits.
struct ServiceContext {
  std::string workspace;                 ///< its root
  std::string environment;               ///< --env / PROVISIONING_ENV the service runs with ("" none)
  std::shared_ptr<WorkflowStore> store;
  std::string plugin_exe;                ///< the plugin binary: runs workflows (`--runner`)
  Environment env;                       ///< the service's environment: what runners get
  Limits limits;
  std::atomic<int> streams{0};           ///< live event streams
  std::atomic<bool> stopping{false};     ///< SIGTERM: streams end, the server stops
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// A request as a handler sees it.
struct ApiRequest {
  std::string method;
  std::string path;
  std::vector<std::string> params;                    ///< the path's {…} parts, in order
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  std::string accept;                                 ///< the Accept header
  std::string request_id;
  const std::string* query_value(const std::string& name) const;
};

/// What a handler answers: an envelope around `data` (JSON), or raw text, or an event stream.
struct ApiResponse {
  int status = 200;
  std::string envelope_status = "success";  ///< success, or pending for what was accepted and goes on
  Datum data;
  std::optional<std::string> text;          ///< raw text instead of an envelope
  std::string content_type = "text/plain; charset=utf-8";  ///< of `text`
  /// An event stream instead: a feed, and the workflow that ends it (nullopt: until the client goes).
  std::shared_ptr<EventFeed> feed;
  std::optional<std::string> stream_until;
};

/// A documented parameter of a route.
struct ApiParam {
  const char* name;
  const char* in;  ///< path or query
  const char* description;
};

struct ApiRoute {
  const char* method;   ///< GET, POST, DELETE
  const char* path;     ///< OpenAPI form: /workflows/{id}
  const char* summary;
  bool needs_token = true;
  std::vector<ApiParam> params;
  const char* body = nullptr;    ///< what the request body is, when it takes one
  const char* returns = nullptr; ///< what `data` holds
  bool streams = false;          ///< answers text/event-stream when asked
  std::function<ApiResponse(const ApiRequest&, ServiceContext&)> handler;
};

/// Every route, in the order the API documents them.
const std::vector<ApiRoute>& api_routes();

}  // namespace prov::service
