#pragma once
/// The seed's response envelope, for every JSON response:
///   {status: "success"|"error"|"pending", data, metadata: {timestamp, request_id, version},
///    error: null | {code, message, details}}
/// with `code` the stable code the plugin's labeled errors carry.
#include <string>

#include "core/support/datum.hpp"
#include "core/support/error.hpp"

namespace prov::service {

/// `d` as plain JSON for HTTP clients: dates become RFC 3339 text and durations whole
/// milliseconds (datum_json's `$date`/`$duration` tags are for our own files).
std::string http_json(const Datum& d);

/// A new request id, "req-<16 hex digits>".
std::string new_request_id();
/// The envelope of a success (`status` "success", or "pending" for what was accepted and goes on).
std::string data_envelope(const Datum& data, const std::string& request_id, const std::string& status = "success");
/// The envelope of an error: `details` holds its help and the problems reported with it.
std::string error_envelope(const Error& e, const std::string& request_id);
/// The HTTP status an error stands for: 400 bad input, 401, 404 unknown, 409 conflict (running,
/// locked, ended), 413 too large, 503 storage, 500 otherwise.
int http_status(const Error& e);

}  // namespace prov::service
