#include "plugin/commands/workspace.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/config/workspace.hpp"
#include "core/support/error.hpp"
#include "plugin/commands/datum_value.hpp"
#include "plugin/commands/example_result.hpp"
#include "plugin/commands/workspace_context.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultsFile = "config.defaults.toml";

/// The first config.defaults.toml a new workspace gets: its lowest file layer.
constexpr const char* kDefaultsText =
    "# The workspace's defaults: the lowest file layer of its configuration (`prov config sources`).\n"
    "# config.user.toml and config.<env>.toml beside this file are layered over it.\n"
    "\n"
    "[paths]\n"
    "# where `prov workflow run NAME` finds NAME.toml (relative to this folder)\n"
    "workflows = \"workflows\"\n";

/// The positional `name` as a path relative to Nu's current directory; `fallback` when absent.
std::string dir_arg(EngineInterface& engine, const EvaluatedCall& call, size_t index, const char* fallback) {
  std::string given = fallback;
  Span span = call.head;
  if (call.positional.size() > index) {
    const Value& v = call.positional[index];
    if (!v.is(Value::Type::String) && !v.is(Value::Type::Glob))
      throw labeled("The directory must be a path", "expected a path, got " + v.type_name(), v.span,
                    "provisioning::input::wrong_type");
    given = v.as_string();
    span = v.span;
    if (given.empty())
      throw labeled("The directory is empty", "give a directory", span, "provisioning::input::bad_value");
  }
  fs::path p(given);
  if (given == "~" || given.rfind("~/", 0) == 0) {
    std::optional<Value> home = engine.get_env_var("HOME");
    if (!home || !home->is(Value::Type::String))
      throw labeled("Cannot expand ~", "HOME is not set", span, "provisioning::input::bad_value");
    p = fs::path(home->as_string()) / given.substr(given == "~" ? 1 : 2);
  } else if (p.is_relative()) {
    p = fs::path(engine.get_current_dir()) / p;
  }
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Span positional_span(const EvaluatedCall& call, size_t index) {
  return call.positional.size() > index ? call.positional[index].span : call.head;
}

/// Creates `path` with `text` unless it exists; true when it made it.
bool create_file(const std::string& path, const std::string& text, Span span) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw labeled("Cannot create " + path, std::strerror(errno), span, "provisioning::resource::write");
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok) throw labeled("Cannot write " + path, std::strerror(err), span, "provisioning::resource::write");
  return true;
}

/// Creates directory `path` (and its parents) unless it exists; true when it made `path`.
bool create_dir(const std::string& path, Span span) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return false;
  if (fs::exists(fs::symlink_status(path, ec)))
    throw labeled("Cannot make a workspace at " + path, "exists and is not a directory", span,
                  "provisioning::resource::write");
  fs::create_directories(path, ec);
  if (ec) throw labeled("Cannot create " + path, ec.message(), span, "provisioning::resource::write");
  return true;
}

Value nullable_string(const std::string& s, Span span) {
  return s.empty() ? Value::nothing(span) : Value::string(s, span);
}

}  // namespace

Signature WorkspaceInitCommand::signature() const {
  Signature s;
  s.name = "prov workspace init";
  s.description = "Make a workspace: a folder with a config.defaults.toml (and workflows/); returns what it created.";
  s.extra_description =
      "The folder (default: Nu's current directory) is created when missing. Nothing that exists is overwritten: "
      "running it again creates nothing. Commands that keep state (workflows, servers) refuse to run outside a "
      "workspace; inside one, state goes to <workspace>/.provisioning unless paths.state says otherwise.";
  s.search_terms = {"new", "create", "setup", "project"};
  s.optional = {{"dir", "The workspace folder, relative to Nu's current directory (default: it)", shape::directory()}};
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {
      {"prov workspace init my-infra | get created | path basename", "Make a workspace in ./my-infra",
       strings({"my-infra", "config.defaults.toml", "workflows"})},
      {"prov workspace init | get created", "The current folder is one already: nothing is made", Value::list({})}};
  return s;
}

PipelineOutput WorkspaceInitCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string root = dir_arg(engine, call, 0, ".");
  const Span span = positional_span(call, 0);
  std::vector<Value> created;
  if (create_dir(root, span)) created.push_back(Value::string(root, call.head));
  const std::string defaults = root + "/" + kDefaultsFile;
  if (create_file(defaults, kDefaultsText, span)) created.push_back(Value::string(defaults, call.head));
  const std::string workflows = root + "/workflows";
  if (create_dir(workflows, span)) created.push_back(Value::string(workflows, call.head));
  return PipelineOutput::of(Value::record(
      {{"root", Value::string(root, call.head)}, {"created", Value::list(std::move(created), call.head)}}, call.head));
}

Signature WorkspaceInfoCommand::signature() const {
  Signature s;
  s.name = "prov workspace info";
  s.description = "The workspace in effect: root, how it was found, environment, layers and state folder.";
  s.extra_description =
      "The workspace is --workspace, else $env.PROVISIONING_WORKSPACE, else the nearest folder upwards from Nu's "
      "current directory that holds config.defaults.toml. Outside any, this is an error saying how to make one. "
      "layers lists every configuration layer, lowest first, with the file it was looked for in and whether it "
      "was found.";
  s.search_terms = {"where", "root", "current", "environment", "layers"};
  s.named = workspace_flags();
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workspace info | get found_by", "How the workspace in effect was found",
                 Value::string("config.defaults.toml")},
                {"prov workspace info | get layers | where found | get name", "The layers that contributed",
                 strings({"builtin", "defaults", "user"})}};
  return s;
}

PipelineOutput WorkspaceInfoCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  prov::Config cfg = load_workspace_config(engine, call, nullptr);
  require_workspace(cfg);
  const Span h = call.head;
  std::vector<Value> layers;
  for (const auto& l : cfg.layers)
    layers.push_back(Value::record({{"name", Value::string(l.name, h)},
                                    {"source", nullable_string(l.source, h)},
                                    {"found", Value::boolean(l.found, h)}},
                                   h));
  const std::string state = state_dir_path(cfg);
  std::error_code ec;
  return PipelineOutput::of(
      Value::record({{"root", Value::string(cfg.workspace, h)},
                     {"found_by", Value::string(prov::workspace_origin_text(cfg.workspace_origin), h)},
                     {"environment", nullable_string(cfg.environment, h)},
                     {"layers", Value::list(std::move(layers), h)},
                     {"state", Value::string(state, h)},
                     {"state_exists", Value::boolean(fs::is_directory(state, ec), h)}},
                    h));
}

Signature WorkspaceUseCommand::signature() const {
  Signature s;
  s.name = "prov workspace use";
  s.description = "Switch this Nu session to a workspace: sets $env.PROVISIONING_WORKSPACE (and PROVISIONING_ENV).";
  s.extra_description =
      "Like `def --env`, it changes the environment of the scope it is called from. The folder must be a "
      "workspace (hold config.defaults.toml; `prov workspace init` makes one). Without --env, "
      "$env.PROVISIONING_ENV is left as it is. Relative paths inside workflows then resolve against this "
      "workspace's root wherever Nu's current directory is.";
  s.search_terms = {"switch", "select", "activate", "cd"};
  s.required = {{"dir", "The workspace folder, relative to Nu's current directory", shape::directory()}};
  s.named = {{"env", 'e', shape::string(), "Environment to use from now on: sets $env.PROVISIONING_ENV", false}};
  s.input_output_types = {{type::nothing(), type::record()}};
  s.examples = {{"prov workspace use . --env dev; prov workspace info | get environment",
                 "Work in this workspace with config.dev.toml layered on", Value::string("dev")}};
  return s;
}

PipelineOutput WorkspaceUseCommand::run(EngineInterface& engine, const EvaluatedCall& call, PipelineInput&) const {
  const std::string root = dir_arg(engine, call, 0, ".");
  const Span span = positional_span(call, 0);
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw labeled("No folder " + root, "not a directory", span, "provisioning::config::workspace_not_found",
                  "`prov workspace init " + root + "` makes a workspace there");
  if (!fs::exists(root + "/" + kDefaultsFile, ec))
    throw labeled(root + " is not a workspace", "holds no config.defaults.toml", span, "provisioning::workspace::none",
                  "`prov workspace init " + root + "` makes it one");
  // The environment name is checked as the loader checks --env (letters, digits, '_' and '-').
  prov::ConfigRequest check;
  check.cwd = root;
  std::optional<std::string> env;
  if (const Value* e = call.flag_value("env")) {
    if (!e->is(Value::Type::String))
      throw labeled("--env takes a name", "expected a string, got " + e->type_name(), e->span,
                    "provisioning::input::wrong_type");
    check.env_flag = e->as_string();
    try {
      env = prov::resolve_environment(check);
    } catch (prov::Error& err) {
      err.blamed_on(prov::Blame::flag("env"));
      throw;
    }
  }
  engine.add_env_var("PROVISIONING_WORKSPACE", Value::string(root, call.head));
  if (env) engine.add_env_var("PROVISIONING_ENV", Value::string(*env, call.head));
  std::optional<Value> current_env =
      env ? std::optional<Value>(Value::string(*env, call.head)) : engine.get_env_var("PROVISIONING_ENV");
  return PipelineOutput::of(Value::record(
      {{"root", Value::string(root, call.head)},
       {"environment", current_env && current_env->is(Value::Type::String) && !current_env->as_string().empty()
                           ? Value::string(current_env->as_string(), call.head)
                           : Value::nothing(call.head)}},
      call.head));
}

}  // namespace prov::plugin
