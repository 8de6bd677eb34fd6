#include "core/state/open_store.hpp"

#include "core/state/etcd_store.hpp"
#include "core/state/file_store.hpp"
#include "core/support/datum_json.hpp"

namespace prov {

namespace {

constexpr const char* kEtcdSettings = "etcd-store.json";

Datum to_datum(const EtcdSettings& o) {
  DatumList endpoints;
  for (const auto& e : o.endpoints) endpoints.emplace_back(e);
  return Datum(DatumRecord{{"endpoints", Datum(std::move(endpoints))},
                           {"prefix", Datum(o.prefix)},
                           {"lease_ttl_s", Datum(static_cast<int64_t>(o.lease_ttl.count()))},
                           {"request_timeout_ms", Datum(static_cast<int64_t>(o.request_timeout.count()))},
                           {"user", Datum(o.user)},
                           {"password", Datum(o.password)},
                           {"ca_file", Datum(o.tls.ca_file)},
                           {"cert_file", Datum(o.tls.cert_file)},
                           {"key_file", Datum(o.tls.key_file)}});
}

EtcdSettings from_datum(const Datum& d, const std::string& where) {
  const auto bad = [&] {
    return ResourceError("provisioning::state::corrupt", where + " does not hold the etcd store's settings",
                         "run any `prov workflow` command on this host again to rewrite it");
  };
  EtcdSettings o;
  const Datum* endpoints = d.find("endpoints");
  if (!endpoints || !endpoints->is_list()) throw bad();
  for (const auto& e : endpoints->list()) {
    if (!e.is_string()) throw bad();
    o.endpoints.push_back(e.str());
  }
  const auto str = [&](const char* k) {
    const Datum* v = d.find(k);
    if (!v || !v->is_string()) throw bad();
    return v->str();
  };
  const auto num = [&](const char* k) {
    const Datum* v = d.find(k);
    if (!v || !std::holds_alternative<int64_t>(v->v)) throw bad();
    return std::get<int64_t>(v->v);
  };
  o.prefix = str("prefix");
  o.lease_ttl = std::chrono::seconds(num("lease_ttl_s"));
  o.request_timeout = std::chrono::milliseconds(num("request_timeout_ms"));
  o.user = str("user");
  o.password = str("password");
  const auto optional_str = [&](const char* k) {  // absent in files written before TLS was taken
    const Datum* v = d.find(k);
    if (v && !v->is_string()) throw bad();
    return v ? v->str() : std::string();
  };
  o.tls.ca_file = optional_str("ca_file");
  o.tls.cert_file = optional_str("cert_file");
  o.tls.key_file = optional_str("key_file");
  return o;
}

}  // namespace

std::unique_ptr<WorkflowStore> open_store(const StoreSettings& s) {
  if (s.backend == StoreSettings::Backend::file) return std::make_unique<FileStore>(s.state_path, s.workspace);
  auto store = std::make_unique<EtcdStore>(EtcdStoreOptions{s.etcd, s.state_path, s.workspace, {}});
  const SafeDir folder = SafeDir::open(store->local_path());
  const std::string text = encode_json(to_datum(s.etcd)) + "\n";
  if (folder.read_file(kEtcdSettings) != text) folder.write_file_atomic(kEtcdSettings, text, 0600);
  return store;
}

std::unique_ptr<WorkflowStore> open_store(const std::string& locator, const std::string& workspace_root) {
  constexpr std::string_view etcd = "etcd:";
  if (locator.rfind(etcd, 0) != 0) return std::make_unique<FileStore>(locator, workspace_root);
  const std::string path = locator.substr(etcd.size());
  const SafeDir folder = SafeDir::open(path);
  const std::string where = path + "/" + kEtcdSettings;
  const auto text = folder.read_file(kEtcdSettings);
  if (!text)
    throw ResourceError("provisioning::state::io", where + " is missing: the etcd store's settings are not on this host",
                        "run any `prov workflow` command on this host first");
  Datum d;
  try {
    d = decode_json(*text);
  } catch (const Error&) {
    throw ResourceError("provisioning::state::corrupt", where + " is not JSON");
  }
  return std::make_unique<EtcdStore>(EtcdStoreOptions{from_datum(d, where), path, workspace_root, {}});
}

}  // namespace prov
