#pragma once
/// A real etcd cluster for tests (not part of provcore's interface): `members` etcd processes
/// on free loopback ports, data in a temporary folder, stopped and removed when this goes away.
/// etcd comes from Debian's etcd-server package (tools/setup.sh installs it).

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/etcd/etcd_client.hpp"
#include "core/support/spawn.hpp"
#include "core/support/temp_dir.hpp"

namespace prov::testing {

/// A loopback TCP port nobody listens on now.
inline int free_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("no free port");
  socklen_t len = sizeof a;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

class EtcdTestCluster {
 public:
  /// `extra` flags go to every member (e.g. authentication settings).
  explicit EtcdTestCluster(int members = 3, std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    std::string initial;
    for (int i = 0; i < members; ++i) {
      Member m;
      m.name = "m" + std::to_string(i);
      m.client = "http://127.0.0.1:" + std::to_string(free_port());
      m.peer = "http://127.0.0.1:" + std::to_string(free_port());
      initial += (i ? "," : "") + m.name + "=" + m.peer;
      members_.push_back(std::move(m));
    }
    initial_ = initial;
    for (size_t i = 0; i < members_.size(); ++i) start(i);
    EtcdClient c({endpoints(), {}, {}, std::chrono::milliseconds(1000)});
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      try {
        c.put("/ready", "1");
        return;
      } catch (const std::exception&) {
        if (std::chrono::steady_clock::now() > until) throw std::runtime_error("the etcd test cluster did not start");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  ~EtcdTestCluster() {
    for (auto& m : members_) stop_member(m);
  }

  std::vector<std::string> endpoints() const {
    std::vector<std::string> e;
    for (const auto& m : members_) e.push_back(m.client);
    return e;
  }
  EtcdOptions options(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) const {
    return {endpoints(), {}, {}, timeout};
  }
  /// Stops member `i` (SIGKILL): it stays down until start(i).
  void kill(size_t i) { stop_member(members_[i]); }
  /// (Re)starts member `i` with its data.
  void start(size_t i) {
    Member& m = members_[i];
    SpawnSpec s;
    s.argv = {"etcd",
              "--name", m.name,
              "--data-dir", dir_.path() + "/" + m.name,
              "--listen-client-urls", m.client,
              "--advertise-client-urls", m.client,
              "--listen-peer-urls", m.peer,
              "--initial-advertise-peer-urls", m.peer,
              "--initial-cluster", initial_,
              "--initial-cluster-state", "new",
              "--initial-cluster-token", "prov-test",
              "--heartbeat-interval", "50",
              "--election-timeout", "500",
              "--log-level", "error"};
    s.argv.insert(s.argv.end(), extra_.begin(), extra_.end());
    s.out = Redirect::append(dir_.path() + "/" + m.name + ".log");
    s.err = Redirect::to_stdout();
    s.group = ProcessGroup::own;
    m.process = spawn(s);
  }

 private:
  struct Member {
    std::string name, client, peer;
    Child process;
  };
  static void stop_member(Member& m) {
    if (m.process.pid() > 0 && !m.process.reaped()) {
      m.process.kill(SIGKILL);
      m.process.wait();
    }
  }
  TempDir dir_{"etcd-test"};
  std::vector<std::string> extra_;
  std::string initial_;
  std::vector<Member> members_;
};

/// One cluster for every test of a test program that needs one (started by the first).
inline EtcdTestCluster& shared_etcd_cluster() {
  static EtcdTestCluster c(3);
  return c;
}

}  // namespace prov::testing
