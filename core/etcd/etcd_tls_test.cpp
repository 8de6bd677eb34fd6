// The etcd client over TLS (core/net/tls_session): a real etcd serving https:// with a test
// authority's certificate, asking clients for a certificate of the same authority.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "core/etcd/etcd_client.hpp"
#include "core/etcd/etcd_test_cluster.hpp"
#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/spawn.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessOutput out = run_captured(argv);
  if (out.exit_code != 0) throw std::runtime_error("openssl failed: " + out.err);
}

/// A test authority and, signed by it, a certificate for `name` (with `san`, e.g.
/// "IP:127.0.0.1") or for a client; files `<name>.pem` and `<name>-key.pem` in `dir`.
void make_ca(const std::string& dir) {
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=prov test CA", "-keyout",
           dir + "/ca-key.pem", "-out", dir + "/ca.pem"});
}
void make_cert(const std::string& dir, const std::string& name, const std::string& ext) {
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", dir + "/" + name + "-key.pem",
           "-out", dir + "/" + name + ".csr"});
  std::ofstream(dir + "/" + name + ".ext") << ext << "\n";
  openssl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca-key.pem",
           "-CAcreateserial", "-days", "1", "-extfile", dir + "/" + name + ".ext", "-out", dir + "/" + name + ".pem"});
}

/// One etcd member serving clients over TLS only, with client certificates required.
class TlsEtcd {
 public:
  TlsEtcd() {
    const std::string d = dir_.path();
    make_ca(d);
    // etcd's gateway presents the server certificate as a client to etcd itself: both usages.
    make_cert(d, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth");
    make_cert(d, "client", "extendedKeyUsage=clientAuth");
    make_cert(d, "other", "extendedKeyUsage=clientAuth");
    port_ = testing::free_port();
    const std::string client = "https://127.0.0.1:" + std::to_string(port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(testing::free_port());
    SpawnSpec s;
    s.argv = {"etcd",
              "--name",
              "m0",
              "--data-dir",
              d + "/data",
              "--listen-client-urls",
              client,
              "--advertise-client-urls",
              client,
              "--listen-peer-urls",
              peer,
              "--initial-advertise-peer-urls",
              peer,
              "--initial-cluster",
              "m0=" + peer,
              "--cert-file",
              d + "/server.pem",
              "--key-file",
              d + "/server-key.pem",
              "--trusted-ca-file",
              d + "/ca.pem",
              "--client-cert-auth",
              "--log-level",
              "error"};
    s.out = Redirect::append(d + "/etcd.log");
    s.err = Redirect::to_stdout();
    s.group = ProcessGroup::own;
    process_ = spawn(s);
    EtcdClient c(options(1000ms));
    const auto until = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      try {
        c.put("/ready", "1");
        return;
      } catch (const std::exception&) {
        if (std::chrono::steady_clock::now() > until) throw std::runtime_error("the TLS etcd did not start");
        std::this_thread::sleep_for(100ms);
      }
    }
  }
  ~TlsEtcd() {
    process_.kill(SIGKILL);
    process_.wait();
  }
  std::string file(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_);
  }
  EtcdOptions options(std::chrono::milliseconds timeout = 3000ms) const {
    EtcdOptions o{{url()}, {}, {}, timeout};
    o.tls = {file("ca.pem"), file("client.pem"), file("client-key.pem")};
    return o;
  }

 private:
  TempDir dir_{"etcd-tls-test"};
  int port_ = 0;
  Child process_;
};

TlsEtcd& tls_etcd() {
  static TlsEtcd e;
  return e;
}

/// The message of the error that `f` throws; empty when it throws none.
template <typename F>
std::string failure_of(F&& f) {
  try {
    f();
  } catch (const ResourceError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("etcd tls: keys, transactions and watches over https with a client certificate", "[etcd][tls]") {
  EtcdClient c(tls_etcd().options());
  const int64_t start = c.put("/tls/a", "one");
  REQUIRE(c.get("/tls/a"));
  CHECK(c.get("/tls/a")->value == "one");
  // A watch is a long answer read as lines: what TLS decrypted is not left unseen by poll.
  auto w = c.watch("/tls/", start + 1);
  for (int i = 0; i < 50; ++i) c.put("/tls/k" + std::to_string(i), std::string(3000, 'x'));
  size_t seen = 0;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (seen < 50 && std::chrono::steady_clock::now() < until)
    seen += w->next(std::chrono::steady_clock::now() + 500ms).size();
  CHECK(seen == 50);
}

TEST_CASE("etcd tls: a server that does not verify is refused, naming why", "[etcd][tls]") {
  auto o = tls_etcd().options(1000ms);
  o.tls.ca_file.clear();  // the system's authorities do not know the test one
  const std::string untrusted = failure_of([&] { EtcdClient(o).get("/tls/a"); });
  CHECK_THAT(untrusted, Catch::Contains("TLS with " + tls_etcd().url() + " failed: its certificate does not verify"));

  o = tls_etcd().options(1000ms);
  o.endpoints = {tls_etcd().url("localhost")};  // the certificate names 127.0.0.1 only
  CHECK_THAT(failure_of([&] { EtcdClient(o).get("/tls/a"); }),
             Catch::Contains("its certificate does not verify: hostname mismatch"));
}

TEST_CASE("etcd tls: client certificates: none, another's key, a file that is not there", "[etcd][tls]") {
  auto o = tls_etcd().options(1000ms);
  o.tls.cert_file.clear();
  o.tls.key_file.clear();
  CHECK_THAT(failure_of([&] { EtcdClient(o).get("/tls/a"); }),
             Catch::Contains("TLS with " + tls_etcd().url() + " failed: ") && Catch::Contains("alert bad certificate"));

  o = tls_etcd().options(1000ms);
  o.tls.key_file = tls_etcd().file("other-key.pem");
  CHECK_THAT(failure_of([&] { EtcdClient(o).get("/tls/a"); }),
             Catch::Contains("the key in '" + tls_etcd().file("other-key.pem") + "' cannot be loaded") &&
                 Catch::Contains("key values mismatch"));

  o = tls_etcd().options(1000ms);
  o.tls.ca_file = tls_etcd().file("missing.pem");
  CHECK_THAT(failure_of([&] { EtcdClient(o).get("/tls/a"); }),
             Catch::Contains("the authorities in '" + tls_etcd().file("missing.pem") + "' cannot be loaded"));
}

TEST_CASE("etcd tls: an http:// endpoint of a member that serves https:// fails, naming the endpoint", "[etcd][tls]") {
  auto o = tls_etcd().options(1000ms);
  const std::string plain = "http://127.0.0.1:" + tls_etcd().url().substr(tls_etcd().url().rfind(':') + 1);
  o.endpoints = {plain};
  const std::string why = failure_of([&] { EtcdClient(o).get("/tls/a"); });
  CHECK_THAT(why, Catch::StartsWith("etcd is unavailable: ") && Catch::Contains(plain));
}
