#pragma once
/// The service's bearer token: every route but /health needs `Authorization: Bearer <token>`.
/// It is the configuration's secret `service.token` when set, else the file `token` of the
/// service's folder (`<state>/serve/`, 0600), made at first start and replaced by rotate_token.
#include <optional>
#include <string>
#include <string_view>

#include "core/state/safe_dir.hpp"

namespace prov::service {

/// The token of the service folder `dir`, made (32 random bytes, hex) when there is none.
std::string file_token(const SafeDir& dir);
/// Replaces the token of `dir` with a new one and returns it; a running service reads it anew.
std::string rotate_token(const SafeDir& dir);
/// Whether header value `authorization` is `Bearer <token>`, compared in constant time.
bool authorized(std::string_view authorization, const std::string& token);

}  // namespace prov::service
