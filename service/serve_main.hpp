#pragma once
/// `nu_plugin_provisioning serve [--workspace DIR] [--listen HOST:PORT] [--env NAME]`: the service
/// in the foreground, for systemd-like supervisors; SIGTERM or SIGINT stop it cleanly. One service
/// per workspace: a second refuses, naming the first. Also `serve --api-markdown` (docs/API.md),
/// `serve --openapi` (the OpenAPI JSON) and `serve --rotate-token`.
#include <string>
#include <vector>

namespace prov::service {

/// `args` follow `serve`; `plugin_exe` is the plugin binary, which runs workflows. Returns the
/// process exit code.
int serve_main(const std::vector<std::string>& args, const std::string& plugin_exe);

}  // namespace prov::service
