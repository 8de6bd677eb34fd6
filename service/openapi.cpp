#include "service/openapi.hpp"

#include "core/support/version.hpp"
#include "service/api.hpp"

namespace prov::service {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

Datum envelope_schema() {
  auto str = [] { return Datum(DatumRecord{{"type", Datum("string")}}); };
  return Datum(DatumRecord{
      {"type", Datum("object")},
      {"required", Datum(DatumList{Datum("status"), Datum("data"), Datum("metadata"), Datum("error")})},
      {"properties",
       Datum(DatumRecord{
           {"status", Datum(DatumRecord{{"type", Datum("string")},
                                        {"enum", Datum(DatumList{Datum("success"), Datum("error"), Datum("pending")})}})},
           {"data", Datum(DatumRecord{{"description", Datum("what the route returns; null on error")}})},
           {"metadata", Datum(DatumRecord{{"type", Datum("object")},
                                          {"properties", Datum(DatumRecord{{"timestamp", str()},
                                                                           {"request_id", str()},
                                                                           {"version", str()}})}})},
           {"error", Datum(DatumRecord{
                         {"nullable", Datum(true)},
                         {"type", Datum("object")},
                         {"properties", Datum(DatumRecord{{"code", str()},
                                                          {"message", str()},
                                                          {"details", Datum(DatumRecord{{"type", Datum("object")}})}})}})},
       })}});
}

Datum ref(const char* name) { return Datum(DatumRecord{{"$ref", Datum(std::string("#/components/schemas/") + name)}}); }

}  // namespace

Datum openapi_document() {
  DatumRecord paths;
  for (const ApiRoute& r : api_routes()) {
    Datum op(DatumRecord{{"summary", Datum(r.summary)}, {"operationId", Datum(lower(r.method) + std::string(r.path))}});
    DatumList params;
    for (const ApiParam& p : r.params)
      params.emplace_back(DatumRecord{{"name", Datum(p.name)},
                                      {"in", Datum(p.in)},
                                      {"required", Datum(std::string(p.in) == "path")},
                                      {"description", Datum(p.description)},
                                      {"schema", Datum(DatumRecord{{"type", Datum("string")}})}});
    if (!params.empty()) op.set("parameters", Datum(std::move(params)));
    if (r.body)
      op.set("requestBody",
             Datum(DatumRecord{{"required", Datum(true)},
                               {"description", Datum(r.body)},
                               {"content", Datum(DatumRecord{{"application/json", Datum(DatumRecord{})}})}}));
    DatumRecord content{{"application/json", Datum(DatumRecord{{"schema", ref("Envelope")}})}};
    if (r.streams) content.emplace_back("text/event-stream", Datum(DatumRecord{}));
    op.set("responses", Datum(DatumRecord{{"default", Datum(DatumRecord{{"description", Datum(r.returns ? r.returns : "")},
                                                                        {"content", Datum(std::move(content))}})}}));
    if (!r.needs_token) op.set("security", Datum(DatumList{}));
    Datum* item = nullptr;
    for (auto& [k, v] : paths)
      if (k == r.path) item = &v;
    if (!item) {
      paths.emplace_back(r.path, Datum(DatumRecord{}));
      item = &paths.back().second;
    }
    item->set(lower(r.method), std::move(op));
  }
  return Datum(DatumRecord{
      {"openapi", Datum("3.0.3")},
      {"info", Datum(DatumRecord{{"title", Datum("nu_plugin_provisioning service")},
                                 {"version", Datum(std::string(kVersion))},
                                 {"description", Datum("The workflow core over HTTP: the same workflows `prov workflow` "
                                                       "runs. Every route but /health needs a bearer token.")}})},
      {"paths", Datum(std::move(paths))},
      {"components",
       Datum(DatumRecord{{"schemas", Datum(DatumRecord{{"Envelope", envelope_schema()}})},
                         {"securitySchemes", Datum(DatumRecord{{"bearer", Datum(DatumRecord{{"type", Datum("http")},
                                                                                            {"scheme", Datum("bearer")}})}})}})},
      {"security", Datum(DatumList{Datum(DatumRecord{{"bearer", Datum(DatumList{})}})})},
  });
}

std::string api_markdown() {
  std::string md =
      "# HTTP API\n\n"
      "<!-- Written by `nu_plugin_provisioning serve --api-markdown` (make docs) from the service's route table; "
      "the test `service: API.md is current` fails when it is stale. -->\n\n"
      "`nu_plugin_provisioning serve` (or `prov serve start`) serves the workflow core over HTTP: the same "
      "workflows `prov workflow` runs. Every route but `/health` needs `Authorization: Bearer <token>` (the token is "
      "in `<state>/serve/token`, or the configuration's secret `service.token`). Every JSON answer is the envelope "
      "`{status, data, metadata: {timestamp, request_id, version}, error: null | {code, message, details}}`; `code` "
      "is the plugin's labeled-error code. `GET /openapi.json` serves this as OpenAPI 3.\n\n"
      "| method | path | does | token | data |\n|---|---|---|---|---|\n";
  for (const ApiRoute& r : api_routes()) {
    std::string does = r.summary;
    for (const ApiParam& p : r.params)
      if (std::string(p.in) == "query") does += "; `?" + std::string(p.name) + "=`: " + p.description;
    if (r.body) does += std::string(". Body: ") + r.body;
    md += std::string("| ") + r.method + " | `" + r.path + "` | " + does + " | " + (r.needs_token ? "yes" : "no") +
          " | " + (r.returns ? r.returns : "") + " |\n";
  }
  return md;
}

}  // namespace prov::service
