#include "plugin/commands/serve.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <poll.h>

#include "core/state/safe_dir.hpp"
#include "core/state/service_instance.hpp"
#include "core/support/daemon.hpp"
#include "core/support/proc_stat.hpp"
#include "core/support/ready_line.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace {

/// The workspace's service folder, made (0700) with the state folder when missing.
std::string serve_dir_of(const prov::Config& cfg) {
  const std::string state = open_store(cfg)->local_path();
  SafeDir::open(state).sub("serve", true);
  return service_dir(state);
}

Value instance_value(const ServiceInstance& s, Span h) {
  return Value::record({{"running", Value::boolean(true, h)},
                        {"url", s.url.empty() ? Value::nothing(h) : Value::string(s.url, h)},
                        {"listen", s.listen.empty() ? Value::nothing(h) : Value::string(s.listen, h)},
                        {"pid", Value::integer(s.pid, h)},
                        {"token_file", [&] {
                           const Datum* t = s.record.find("token_file");
                           return t && t->is_string() ? Value::string(t->str(), h) : Value::nothing(h);
                         }()}},
                       h);
}

std::string service_exe() { return self_exe().substr(0, self_exe().rfind('/') + 1) + "nu_plugin_provisioning-service"; }

}  // namespace

Signature ServeStartCommand::signature() const {
  Signature s;
  s.name = "prov serve start";
  s.description = "Start the workspace's HTTP service in the background; returns where it listens.";
  s.extra_description =
      "The service (`nu_plugin_provisioning serve`, routes in docs/API.md) serves the workflow core over HTTP: "
      "workflows submitted there and from Nu are the same workflows. It listens on --listen, else service.listen, "
      "else 127.0.0.1:9090 (port 0: any free port); an address that is not loopback needs service.tls.cert_file "
      "and key_file. Every route but /health needs `Authorization: Bearer <token>`: the token is in token_file "
      "(0600, made at first start) unless the configuration's secret service.token sets it. One service per "
      "workspace; it outlives this Nu session until `prov serve stop`.";
  s.search_terms = {"http", "rest", "api", "server", "daemon", "orchestrator"};
  s.named = workspace_flags();
  s.named.push_back({"listen", std::nullopt, shape::string(), "HOST:PORT to listen on (default 127.0.0.1:9090)", false});
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"let s = prov serve start --listen 127.0.0.1:0; http get -H [Authorization $\"Bearer (open $s.token_file "
                 "| str trim)\"] $\"($s.url)/workflows\" | get data",
                 "Start the service on any free port, then list the workflows over HTTP (none yet)", Value::list({})}};
  return s;
}

PipelineOutput ServeStartCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const prov::Config cfg = load_workspace_config(engine, call, nullptr);
  const std::string dir = serve_dir_of(cfg);
  if (auto running = running_service(dir))
    throw labeled("A service already serves this workspace" + (running->url.empty() ? "" : " at " + running->url),
                  "already running (process " + std::to_string(running->pid) + ")", call.head,
                  "provisioning::service::running", "`prov serve stop` stops it");
  std::vector<std::string> argv{service_exe(), "serve", "--workspace", cfg.workspace, "--ready-fd",
                                std::to_string(kReadyFd)};
  if (const Value* l = call.flag_value("listen")) {
    if (!l->is(Value::Type::String))
      throw labeled("--listen takes HOST:PORT", "expected a string", l->span, "provisioning::input::wrong_type");
    argv.push_back("--listen");
    argv.push_back(l->as_string());
  }
  if (!cfg.environment.empty()) {
    argv.push_back("--env");
    argv.push_back(cfg.environment);
  }
  const std::string log = dir + "/service.log";
  Pipe ready;
  try {
    ready = make_pipe();
    SpawnSpec spec;
    spec.argv = argv;
    spec.env = std::make_shared<const ChildEnv>(engine_environment(engine));
    spec.out = Redirect::append(log);
    spec.err = Redirect::to_stdout();
    spec.pass_fds = {{ready.write.get(), kReadyFd}};
    launch_detached(spec);
  } catch (const ResourceError& e) {
    throw labeled("Cannot start the service " + argv[0], e.what(), call.head, e.code());
  }
  ready.write.reset();  // the service holds the only write end now: its exit is our end of file
  try {
    await_ready_line(ready.read.get(), "the service", log, std::chrono::seconds(30), "provisioning::service::failed");
  } catch (prov::Error& e) {
    if (const Value* l = call.flag_value("listen"); l && e.code().find("listen") != std::string::npos)
      e.blamed_on(Blame::flag("listen"));
    throw;
  }
  auto running = running_service(dir);
  if (!running)
    throw labeled("The service said it was ready, then ended", "see " + log, call.head, "provisioning::service::failed");
  return PipelineOutput::of(instance_value(*running, call.head));
}

Signature ServeStatusCommand::signature() const {
  Signature s;
  s.name = "prov serve status";
  s.description = "Whether the workspace's HTTP service runs, and where it listens.";
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov serve status | get running", "Nothing serves this workspace yet", Value::boolean(false)}};
  return s;
}

PipelineOutput ServeStatusCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const prov::Config cfg = load_workspace_config(engine, call, nullptr);
  if (auto running = running_service(serve_dir_of(cfg))) return PipelineOutput::of(instance_value(*running, call.head));
  return PipelineOutput::of(Value::record({{"running", Value::boolean(false, call.head)},
                                           {"url", Value::nothing(call.head)},
                                           {"listen", Value::nothing(call.head)},
                                           {"pid", Value::nothing(call.head)},
                                           {"token_file", Value::nothing(call.head)}},
                                          call.head));
}

Signature ServeStopCommand::signature() const {
  Signature s;
  s.name = "prov serve stop";
  s.description = "Stop the workspace's HTTP service (SIGTERM) and wait until it has ended.";
  s.extra_description =
      "Workflows it started go on: they run in runners of their own. Live event streams end. Fails when no "
      "service runs.";
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov serve stop | get running", "Stop the workspace's service", Value::boolean(false)}};
  return s;
}

PipelineOutput ServeStopCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const prov::Config cfg = load_workspace_config(engine, call, nullptr);
  const std::string dir = serve_dir_of(cfg);
  auto running = running_service(dir);
  if (!running || running->pid <= 0)
    throw labeled("No service serves this workspace", "nothing to stop", call.head, "provisioning::service::not_running",
                  "`prov serve start` starts one");
  const UniqueFd pidfd = open_pidfd(static_cast<pid_t>(running->pid));
  if (::kill(static_cast<pid_t>(running->pid), SIGTERM) != 0 && errno != ESRCH) {
    throw labeled("Cannot stop the service (process " + std::to_string(running->pid) + ")", std::strerror(errno),
                  call.head, "provisioning::service::stop");
  }
  // Its exit (a pidfd), at most 10 s.
  if (pidfd) {
    pollfd p{pidfd.get(), POLLIN, 0};
    ::poll(&p, 1, 10'000);
  }
  const bool stopped = !running_service(dir).has_value();
  if (!stopped)
    throw labeled("The service (process " + std::to_string(running->pid) + ") did not stop within 10 s",
                  "still running", call.head, "provisioning::service::stop");
  return PipelineOutput::of(Value::record({{"running", Value::boolean(false, call.head)},
                                           {"stopped_pid", Value::integer(running->pid, call.head)}},
                                          call.head));
}

}  // namespace prov::plugin
