#include "core/providers/nu_provider.hpp"

#include <chrono>

#include "core/support/duration.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

constexpr size_t kQuoteBytes = 200;

std::string quoted(const Datum& d) {
  std::string s = to_display(d);
  if (s.size() > kQuoteBytes) s = s.substr(0, kQuoteBytes) + "…";
  return s;
}

/// `timeout` of a provider's config: a duration, a string ("5s") or a number of seconds (the
/// seed's `timeout = 300`).
Duration read_timeout(const Datum& config, const std::string& provider) {
  const Datum* t = config.is_record() ? config.find("timeout") : nullptr;
  if (!t || t->is_null()) return kNuProviderDefaultTimeout;
  if (const auto* secs = std::get_if<int64_t>(&t->v); secs && *secs > 0)
    return Duration{*secs * 1'000'000'000};
  if (const auto* secs = std::get_if<double>(&t->v); secs && *secs > 0)
    return Duration{static_cast<int64_t>(*secs * 1e9)};
  std::string why;
  if (auto d = to_duration(*t, why); d && d->nanos > 0) return *d;
  if (why.empty()) why = "it must be longer than zero";
  throw ConfigError("provisioning::config::bad_value",
                    "providers." + provider + ".timeout is not a usable timeout (" + to_display(*t) +
                        "): " + why,
                    std::string("write a duration such as \"30s\"; ") + kDurationForms);
}

}  // namespace

NuProvider::NuProvider(std::string name, std::string module_dir, ProviderContext ctx)
    : name_(std::move(name)), module_dir_(std::move(module_dir)), ctx_(std::move(ctx)) {
  while (module_dir_.size() > 1 && module_dir_.back() == '/') module_dir_.pop_back();
  timeout_ = read_timeout(ctx_.config, name_);
  context_ = DatumRecord{{"name", name_},
                         {"config", ctx_.config.is_null() ? Datum(DatumRecord{}) : ctx_.config},
                         {"workspace", ctx_.workspace},
                         {"state_dir", ctx_.state_dir}};
  worker_ = NuWorkerPool::shared().worker({ctx_.nu_path, module_dir_}, [this] { return ctx_.environment(); });
}

Datum NuProvider::call(const char* method, Datum args) {
  NuCall c;
  c.provider = name_;
  c.method = method;
  c.args = std::move(args);
  c.context = context_;
  c.timeout = timeout_;
  c.cancel = ctx_.cancel;
  return worker_->call(c);
}

Server NuProvider::to_server(const Datum& value, const char* method) const {
  if (!value.is_record())
    throw ProviderError("provisioning::provider::bad_response",
                        "provider '" + name_ + "' answered " + method + " with a " +
                            value.type_name() + " where a server record belongs: " + quoted(value),
                        "a server is a record with at least an `id`; see nu/provider_template.nu");
  return Server::from_datum(value, name_);
}

std::vector<Server> NuProvider::list() {
  const Datum value = call("list-servers", DatumRecord{});
  std::vector<Server> servers;
  if (value.is_null()) return servers;
  if (value.is_record()) {
    servers.push_back(to_server(value, "list-servers"));
    return servers;
  }
  if (!value.is_list())
    throw ProviderError("provisioning::provider::bad_response",
                        "provider '" + name_ + "' answered list-servers with a " +
                            value.type_name() + " where a list of servers belongs: " +
                            quoted(value),
                        "list-servers returns a table of server records");
  for (const Datum& item : value.list()) servers.push_back(to_server(item, "list-servers"));
  return servers;
}

Server NuProvider::create(const ServerSpec& spec) {
  Datum record = spec.to_datum();
  ServerSpec::from_datum(record);  // refuses what no provider can create (no name, …)
  return to_server(call("create-server", DatumRecord{{"spec", std::move(record)}}), "create-server");
}

Server NuProvider::get(const std::string& id) {
  const Datum value = call("get-server", DatumRecord{{"id", id}});
  if (value.is_null())
    throw ProviderError("provisioning::provider::not_found",
                        "provider '" + name_ + "' has no server '" + id + "'",
                        "`prov server list --provider " + name_ + "` shows the servers it has");
  return to_server(value, "get-server");
}

Server NuProvider::remove(const std::string& id) {
  Server last = get(id);
  const Datum value = call("delete-server", DatumRecord{{"id", id}});
  if (value.is_record()) last = to_server(value, "delete-server");
  last.state = server_state::deleted;
  return last;
}

std::vector<std::string> NuProvider::spec_fields() {
  if (spec_fields_) return *spec_fields_;
  const Datum value = call("spec-fields", DatumRecord{});
  std::vector<std::string> fields;
  if (!value.is_null()) {
    if (!value.is_list())
      throw ProviderError("provisioning::provider::bad_response",
                          "provider '" + name_ + "' answered spec-fields with a " + value.type_name() +
                              " where a list of field names belongs: " + quoted(value),
                          "spec-fields returns the spec fields it takes beyond name, plan and labels, e.g. [region]");
    for (const Datum& f : value.list()) {
      if (!f.is_string() || f.str().empty())
        throw ProviderError("provisioning::provider::bad_response",
                            "provider '" + name_ + "' answered spec-fields with " + quoted(f) + " among its names",
                            "spec-fields returns a list of strings");
      fields.push_back(f.str());
    }
  }
  spec_fields_ = fields;
  return fields;
}

std::string NuProvider::identity_lock() const {
  return ctx_.state_dir.empty() ? std::string() : ctx_.state_dir + "/servers/" + name_ + ".lock";
}

Connectivity NuProvider::test_connectivity() {
  Connectivity c;
  const auto started = std::chrono::steady_clock::now();
  try {
    const Datum value = call("test-connectivity", DatumRecord{});
    if (const auto* b = std::get_if<bool>(&value.v)) {
      c.ok = *b;
    } else if (value.is_record()) {
      const Datum* ok = value.find("ok");
      c.ok = ok && std::holds_alternative<bool>(ok->v) && std::get<bool>(ok->v);
      if (const Datum* m = value.find("message"); m && m->is_string()) c.message = m->str();
    } else {
      c.ok = value.is_null();
    }
    if (c.message.empty()) c.message = c.ok ? "reachable" : "not reachable";
  } catch (const ProviderError& e) {
    if (e.code() == "provisioning::provider::cancelled") throw;
    c.ok = false;
    c.message = e.what();
  }
  c.duration = Duration{std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count()};
  return c;
}

}  // namespace prov
