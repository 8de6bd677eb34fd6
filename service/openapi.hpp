#pragma once
/// The API's description, written from the route table (api.hpp): the OpenAPI 3 document served
/// at /openapi.json, and the same as Markdown for docs/API.md (`nu_plugin_provisioning serve
/// --api-markdown`; the test `service: API.md is current` fails when it is stale).
#include <string>

#include "core/support/datum.hpp"

namespace prov::service {

Datum openapi_document();
std::string api_markdown();

}  // namespace prov::service
