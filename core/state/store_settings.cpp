#include "core/state/store_settings.hpp"

#include <filesystem>

#include "core/net/http_client.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace {

/// Where key `dotted` was set, for messages: " (set in FILE)".
std::string where(const Config& cfg, const std::string& dotted) {
  for (const auto& leaf : cfg.leaves)
    if (leaf.key == dotted || leaf.key.rfind(dotted + ".", 0) == 0) return " (set in " + leaf.source + ")";
  return "";
}

ConfigError bad(const Config& cfg, const std::string& key, const std::string& why, const std::string& help) {
  return ConfigError("provisioning::config::bad_value", key + " " + why + where(cfg, key), help);
}

const Datum* at(const Datum& root, std::initializer_list<const char*> path) {
  const Datum* d = &root;
  for (const char* k : path) {
    if (!d->is_record()) return nullptr;
    d = d->find(k);
    if (!d) return nullptr;
  }
  return d;
}

std::string text(const Config& cfg, const char* key, const Datum* d, const std::string& fallback) {
  if (!d || d->is_null()) return fallback;
  if (!d->is_string()) throw bad(cfg, key, "is " + d->a_type_name() + ", not a string", "write it as a string");
  return d->str();
}

std::chrono::milliseconds duration(const Config& cfg, const char* key, const Datum* d, std::chrono::milliseconds fallback) {
  if (!d || d->is_null()) return fallback;
  if (const auto* du = std::get_if<Duration>(&d->v)) return std::chrono::milliseconds(du->nanos / 1'000'000);
  throw bad(cfg, key, "is " + d->a_type_name() + ", not a length of time", "write a duration such as \"10s\"");
}

}  // namespace

std::string state_folder(const Config& cfg) {
  cfg.require({"paths", "state"});
  if (const Datum* s = at(cfg.merged, {"paths", "state"}); s && s->is_string() && !s->str().empty()) return s->str();
  return cfg.workspace + "/.provisioning";
}

StoreSettings store_settings(const Config& cfg, const std::string& state_path) {
  cfg.require({"state"});
  StoreSettings s;
  s.state_path = state_path;
  s.workspace = cfg.workspace;
  const std::string backend = text(cfg, "state.backend", at(cfg.merged, {"state", "backend"}), "file");
  if (backend == "file") return s;
  if (backend != "etcd") {
    const auto near = nearest_names(backend, {"file", "etcd"});
    throw bad(cfg, "state.backend", "is \"" + backend + "\", which is no store",
              near.empty() ? "use \"file\" (the default) or \"etcd\"" : "did you mean " + join_alternatives(near) + "?");
  }
  s.backend = StoreSettings::Backend::etcd;
  const Datum* endpoints = at(cfg.merged, {"state", "etcd", "endpoints"});
  const std::string help = "set state.etcd.endpoints to the client URLs of the etcd members, e.g. "
                           "[\"https://10.0.0.1:2379\", \"https://10.0.0.2:2379\"]";
  if (!endpoints || !endpoints->is_list() || endpoints->list().empty())
    throw bad(cfg, "state.etcd.endpoints", endpoints ? "is not a list of URLs" : "is not set, and state.backend is \"etcd\"",
              help);
  for (size_t i = 0; i < endpoints->list().size(); ++i) {
    const Datum& e = endpoints->list()[i];
    const std::string key = "state.etcd.endpoints." + std::to_string(i);
    if (!e.is_string()) throw bad(cfg, key, "is " + e.a_type_name() + ", not a URL", help);
    try {
      HttpEndpoint::parse(e.str());
    } catch (const ConfigError& err) {
      throw bad(cfg, key, std::string("is not usable: ") + err.what(), err.help());
    }
    s.etcd.endpoints.push_back(e.str());
  }
  const std::string name = std::filesystem::path(cfg.workspace).filename().string();
  s.etcd.prefix = text(cfg, "state.etcd.prefix", at(cfg.merged, {"state", "etcd", "prefix"}), "/provisioning/" + name);
  if (s.etcd.prefix.empty() || s.etcd.prefix[0] != '/')
    throw bad(cfg, "state.etcd.prefix", "does not start with '/'", "write a key prefix such as \"/provisioning/team-a\"");
  const auto ttl = duration(cfg, "state.etcd.lease_ttl", at(cfg.merged, {"state", "etcd", "lease_ttl"}),
                            std::chrono::seconds(10));
  if (ttl < std::chrono::seconds(2))
    throw bad(cfg, "state.etcd.lease_ttl", "is under 2s", "a claim's lease must outlive a keep-alive round trip; use 2s or more");
  s.etcd.lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
  s.etcd.request_timeout = duration(cfg, "state.etcd.request_timeout",
                                         at(cfg.merged, {"state", "etcd", "request_timeout"}), std::chrono::seconds(5));
  s.etcd.user = text(cfg, "state.etcd.user", at(cfg.merged, {"state", "etcd", "user"}), "");
  s.etcd.password = text(cfg, "state.etcd.password", at(cfg.merged, {"state", "etcd", "password"}), "");
  const auto tls_file = [&](const char* name) {
    const std::string key = std::string("state.etcd.") + name;
    std::string path = text(cfg, key.c_str(), at(cfg.merged, {"state", "etcd", name}), "");
    if (path.empty()) return path;
    if (std::filesystem::path(path).is_relative()) path = (std::filesystem::path(cfg.workspace) / path).string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw bad(cfg, key, "names '" + path + "', which is not a file", "write the path of a PEM file");
    return path;
  };
  s.etcd.tls.ca_file = tls_file("ca_file");
  s.etcd.tls.cert_file = tls_file("cert_file");
  s.etcd.tls.key_file = tls_file("key_file");
  if (s.etcd.tls.cert_file.empty() != s.etcd.tls.key_file.empty()) {
    const char* missing = s.etcd.tls.cert_file.empty() ? "state.etcd.cert_file" : "state.etcd.key_file";
    throw bad(cfg, missing, "is not set, and a client certificate needs both cert_file and key_file",
              "set both, or neither when etcd asks no client certificate");
  }
  return s;
}

}  // namespace prov
