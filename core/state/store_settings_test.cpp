#include "core/state/store_settings.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {

/// The settings of a workspace whose config.defaults.toml is `toml`.
StoreSettings settings_of(const std::string& toml) {
  TempDir home("prov-home");
  TempDir ws("prov-ws");
  ws.write("config.defaults.toml", toml);
  ConfigRequest request;
  request.cwd = ws.path();
  request.env["HOME"] = home.path();
  const Config cfg = load_config(request);
  return store_settings(cfg, ws / ".provisioning");
}

std::string failure(const std::string& toml) {
  try {
    settings_of(toml);
  } catch (const ConfigError& e) {
    return std::string(e.what()) + " | " + e.help();
  }
  return "";
}

}  // namespace

TEST_CASE("store settings: the file store unless the workspace names etcd", "[store_settings]") {
  CHECK(settings_of("").backend == StoreSettings::Backend::file);
  CHECK(settings_of("[state]\nbackend = \"file\"\n").backend == StoreSettings::Backend::file);
  const StoreSettings s = settings_of(
      "[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"http://127.0.0.1:2379\", \"http://10.0.0.2:2379\"]\n"
      "lease_ttl = \"15s\"\nuser = \"ci\"\npassword = \"pw\"\n");
  CHECK(s.backend == StoreSettings::Backend::etcd);
  CHECK(s.etcd.endpoints == std::vector<std::string>{"http://127.0.0.1:2379", "http://10.0.0.2:2379"});
  CHECK(s.etcd.lease_ttl == 15s);
  CHECK(s.etcd.request_timeout == 5s);
  CHECK(s.etcd.user == "ci");
  CHECK(s.etcd.password == "pw");
  CHECK(s.etcd.prefix.rfind("/provisioning/prov-ws", 0) == 0);  // the workspace folder's name
}

TEST_CASE("store settings: what cannot work is refused naming the key and the file", "[store_settings]") {
  const std::string unknown = failure("[state]\nbackend = \"etdc\"\n");
  CHECK(unknown.find("state.backend is \"etdc\"") != std::string::npos);
  CHECK(unknown.find("config.defaults.toml") != std::string::npos);
  CHECK(unknown.find("did you mean etcd?") != std::string::npos);
  CHECK(failure("[state]\nbackend = \"etcd\"\n").find("state.etcd.endpoints is not set") != std::string::npos);
  const std::string url = failure("[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"127.0.0.1:2379\"]\n");
  CHECK(url.find("state.etcd.endpoints.0 is not usable") != std::string::npos);
  CHECK(failure("[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"http://h:1\"]\nprefix = \"x\"\n")
            .find("state.etcd.prefix does not start with '/'") != std::string::npos);
  CHECK(failure("[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"http://h:1\"]\nlease_ttl = \"1s\"\n")
            .find("state.etcd.lease_ttl is under 2s") != std::string::npos);
  CHECK(failure("[state]\nbackend = 3\n").find("state.backend is an int, not a string") != std::string::npos);
  const std::string tls = "[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"https://h:1\"]\n";
  const std::string missing = failure(tls + "ca_file = \"certs/ca.pem\"\n");
  CHECK(missing.find("state.etcd.ca_file names '") != std::string::npos);
  CHECK(missing.find("/certs/ca.pem', which is not a file (set in ") != std::string::npos);
  CHECK(failure(tls + "cert_file = \"config.defaults.toml\"\n")
            .find("state.etcd.key_file is not set, and a client certificate needs both") != std::string::npos);
}

TEST_CASE("store settings: TLS files are the workspace's when relative", "[store_settings]") {
  TempDir home("prov-home");
  TempDir ws("prov-ws");
  ws.write("certs/ca.pem", "-");
  ws.write("config.defaults.toml",
           "[state]\nbackend = \"etcd\"\n[state.etcd]\nendpoints = [\"https://10.0.0.1:2379\"]\n"
           "ca_file = \"certs/ca.pem\"\ncert_file = \"" + ws.path() + "/certs/ca.pem\"\nkey_file = \"certs/ca.pem\"\n");
  ConfigRequest request;
  request.cwd = ws.path();
  request.env["HOME"] = home.path();
  const StoreSettings s = store_settings(load_config(request), ws / ".provisioning");
  CHECK(s.etcd.tls.ca_file == ws.path() + "/certs/ca.pem");
  CHECK(s.etcd.tls.cert_file == ws.path() + "/certs/ca.pem");
  CHECK(s.etcd.tls.key_file == ws.path() + "/certs/ca.pem");
}
