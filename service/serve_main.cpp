#include "service/serve_main.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "core/config/config.hpp"
#include "core/state/lock.hpp"
#include "core/state/open_store.hpp"
#include "core/state/safe_dir.hpp"
#include "core/state/service_instance.hpp"
#include "core/support/daemon.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/ready_line.hpp"
#include "core/support/subprocess.hpp"
#include "service/api.hpp"
#include "service/envelope.hpp"
#include "service/http_server.hpp"
#include "service/listen_address.hpp"
#include "service/openapi.hpp"
#include "service/token.hpp"

namespace prov::service {

namespace {

struct ServeArgs {
  std::optional<std::string> workspace, listen, env;
  int ready_fd = -1;
  bool api_markdown = false, openapi = false, rotate = false;
};

ServeArgs parse_args(const std::vector<std::string>& args) {
  ServeArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& k = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw ConfigError("provisioning::service::bad_argument", k + " needs a value");
      return args[++i];
    };
    if (k == "--workspace") a.workspace = value();
    else if (k == "--listen") a.listen = value();
    else if (k == "--env") a.env = value();
    else if (k == "--ready-fd") a.ready_fd = std::atoi(value().c_str());
    else if (k == "--api-markdown") a.api_markdown = true;
    else if (k == "--openapi") a.openapi = true;
    else if (k == "--rotate-token") a.rotate = true;
    else
      throw ConfigError("provisioning::service::bad_argument", "unknown argument '" + k + "'",
                        "serve [--workspace DIR] [--listen HOST:PORT] [--env NAME] | --api-markdown | --openapi | "
                        "--rotate-token");
  }
  return a;
}

std::string text_at(const Datum& config, std::initializer_list<const char*> path) {
  const Datum* d = &config;
  for (const char* k : path) {
    d = d->find(k);
    if (!d) return "";
  }
  return d->is_string() ? d->str() : "";
}

std::string state_path(const Config& cfg) {
  const std::string s = text_at(cfg.merged, {"paths", "state"});
  return s.empty() ? cfg.workspace + "/.provisioning" : s;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

int serve(const ServeArgs& a, const std::string& plugin_exe, ReadyLine& launcher) {
  ServiceContext ctx;
  ctx.env = current_environment();
  if (a.env) ctx.env["PROVISIONING_ENV"] = *a.env;
  char cwd[4096];
  ConfigRequest req;
  req.cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
  if (a.workspace) req.workspace_flag = *a.workspace;
  else if (auto it = ctx.env.find("PROVISIONING_WORKSPACE"); it != ctx.env.end() && !it->second.empty())
    req.workspace_flag = it->second;
  req.env = ctx.env;
  const Config cfg = load_config(req);
  if (cfg.workspace_origin == WorkspaceOrigin::None)
    throw ConfigError("provisioning::workspace::none",
                      cfg.workspace + " is not in a workspace: no config.defaults.toml here or above, no --workspace, "
                                      "no PROVISIONING_WORKSPACE",
                      "serve --workspace <dir>, or make one with `prov workspace init`");
  ctx.workspace = cfg.workspace;
  ctx.environment = cfg.environment;
  ctx.limits = Limits::process().with_config(cfg.merged);
  ctx.plugin_exe = plugin_exe;
  ctx.store = open_store(store_settings(cfg, state_path(cfg)));
  SafeDir::open(ctx.store->local_path()).sub("serve", true);
  const SafeDir serve_dir = SafeDir::open(service_dir(ctx.store->local_path()));

  // One service per workspace.
  std::optional<FileLock> instance = FileLock::try_acquire(serve_dir.path() + "/lock");
  if (!instance) {
    const std::optional<ServiceInstance> other = running_service(serve_dir.path());
    throw ResourceError("provisioning::service::running",
                        "a service already serves workspace " + cfg.workspace +
                            (other && !other->url.empty() ? " at " + other->url : std::string()) +
                            (other && other->pid ? " (process " + std::to_string(other->pid) + ")" : std::string()),
                        "stop it first: `prov serve stop`, or end that process");
  }

  ListenAddress at = parse_listen("127.0.0.1:9090", "the default");
  if (a.listen) at = parse_listen(*a.listen, "--listen");
  else if (std::string l = text_at(cfg.merged, {"service", "listen"}); !l.empty()) at = parse_listen(l, "service.listen");
  TlsFiles tls{text_at(cfg.merged, {"service", "tls", "cert_file"}), text_at(cfg.merged, {"service", "tls", "key_file"})};
  if (tls.cert_file.empty() != tls.key_file.empty())
    throw ConfigError("provisioning::service::tls", "service.tls needs both cert_file and key_file",
                      "set both, or neither for plain HTTP on a loopback address");
  if (!at.loopback() && tls.cert_file.empty())
    throw ConfigError("provisioning::service::insecure_listen",
                      "refusing to serve " + at.text() + " without TLS: only a loopback address may go without it",
                      "set service.tls.cert_file and service.tls.key_file, or listen on 127.0.0.1");
  const std::string configured_token = text_at(cfg.merged, {"service", "token"});
  if (!configured_token.empty() && configured_token.size() < 16)
    throw ConfigError("provisioning::service::token", "service.token is too short (fewer than 16 characters)",
                      "use a long random secret, or remove it to use the generated token file");
  if (configured_token.empty()) file_token(serve_dir);  // made at first start
  auto token = [&serve_dir, configured_token]() { return configured_token.empty() ? file_token(serve_dir) : configured_token; };

  HttpServer server(ctx, token, tls);
  const ListenAddress bound = server.bind(at);
  const std::string url = std::string(tls.cert_file.empty() ? "http://" : "https://") + bound.text();
  serve_dir.write_file_atomic(
      "service.json",
      http_json(Datum(DatumRecord{{"pid", Datum(static_cast<int64_t>(::getpid()))},
                                    {"listen", Datum(bound.text())},
                                    {"url", Datum(url)},
                                    {"tls", Datum(!tls.cert_file.empty())},
                                    {"workspace", Datum(cfg.workspace)},
                                    {"started", Datum(now_utc())},
                                    {"token_file", configured_token.empty() ? Datum(serve_dir.path() + "/token") : Datum()}})) +
          "\n");
  // SIGTERM/SIGINT/SIGHUP stop the server; a thread waits for them (they are blocked everywhere).
  const sigset_t set = stop_signals();
  std::thread([&server, set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) server.stop();
  }).detach();
  std::fprintf(stderr, "nu_plugin_provisioning service: serving workspace %s at %s\n", cfg.workspace.c_str(), url.c_str());
  launcher.ready(Datum(DatumRecord{{"url", Datum(url)}, {"listen", Datum(bound.text())}, {"pid", Datum(static_cast<int64_t>(::getpid()))}}));
  server.serve();
  serve_dir.remove("service.json");
  std::fprintf(stderr, "nu_plugin_provisioning service: stopped\n");
  return 0;
}

}  // namespace

int serve_main(const std::vector<std::string>& args, const std::string& plugin_exe) {
  ServeArgs a;
  try {
    a = parse_args(args);
  } catch (const Error& e) {
    std::fprintf(stderr, "nu_plugin_provisioning serve: %s\n%s\n", e.what(), e.help().c_str());
    return 2;
  }
  if (a.api_markdown) {
    std::fputs(api_markdown().c_str(), stdout);
    return 0;
  }
  if (a.openapi) {
    std::puts(encode_json(openapi_document()).c_str());
    return 0;
  }
  // Started by `prov serve start` (launch_detached): leave it at once, tell it through kReadyFd.
  if (a.ready_fd >= 0 && !detach(true)) return 1;
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  ReadyLine launcher(a.ready_fd >= 0 ? kReadyFd : -1);
  try {
    if (a.rotate) {
      ConfigRequest req;
      char cwd[4096];
      req.cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
      if (a.workspace) req.workspace_flag = *a.workspace;
      req.env = current_environment();
      const Config cfg = load_config(req);
      const SafeDir dir = SafeDir::open(open_store(store_settings(cfg, state_path(cfg)))->local_path()).sub("serve", true);
      rotate_token(dir);
      std::printf("%s\n", (dir.path() + "/token").c_str());
      return 0;
    }
    return serve(a, plugin_exe, launcher);
  } catch (const Error& e) {
    std::fprintf(stderr, "nu_plugin_provisioning serve: %s [%s]\n%s\n", e.what(), e.code().c_str(), e.help().c_str());
    launcher.failed(e);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nu_plugin_provisioning serve: %s\n", e.what());
    launcher.failed(ResourceError("provisioning::service::failed", e.what()));
    return 1;
  }
}

}  // namespace prov::service
