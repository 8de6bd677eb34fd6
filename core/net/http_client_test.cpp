#include "core/net/http_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "core/support/error.hpp"

using namespace prov;
using namespace std::chrono_literals;

namespace {

/// A server on a loopback port that answers each connection's first request with `answer`
/// (raw bytes), then closes it; records what it was sent.
class OneShotServer {
 public:
  explicit OneShotServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_.get(), 4);
    thread_ = std::thread([this] {
      for (const auto& answer : answers_) {
        UniqueFd c(::accept(fd_.get(), nullptr, nullptr));
        if (!c) return;
        char buf[4096];
        std::string got;
        while (got.find("\r\n\r\n") == std::string::npos) {
          const ssize_t n = ::read(c.get(), buf, sizeof buf);
          if (n <= 0) break;
          got.append(buf, static_cast<size_t>(n));
        }
        requests_.push_back(got);
        (void)!::write(c.get(), answer.data(), answer.size());
      }
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  std::vector<std::string> answers_;
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::string> requests_;
};

auto soon() { return HttpConnection::Clock::now() + 3s; }

}  // namespace

TEST_CASE("http: endpoints are parsed from http and https URLs, and bad ones are refused naming them", "[http]") {
  const auto e = HttpEndpoint::parse("http://127.0.0.1:2379");
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 2379);
  CHECK(HttpEndpoint::parse("http://etcd.example/base/").base_path == "/base");
  CHECK(HttpEndpoint::parse("http://etcd.example").port == 80);
  CHECK(HttpEndpoint::parse("http://[::1]:2379").host == "::1");
  CHECK(HttpEndpoint::parse("http://[::1]:2379").to_string() == "http://[::1]:2379");
  CHECK_FALSE(e.tls);
  const auto secure = HttpEndpoint::parse("https://etcd.example");
  CHECK(secure.tls);
  CHECK(secure.port == 443);
  CHECK(secure.to_string() == "https://etcd.example:443");
  for (const char* bad : {"127.0.0.1:2379", "http://", "http://h:0", "http://h:70000", "http://h:x", "ftp://h", "https://", "https:/h"}) {
    try {
      HttpEndpoint::parse(bad);
      FAIL(bad);
    } catch (const ConfigError& err) {
      CHECK(err.code() == "provisioning::http::bad_url");
      CHECK(std::string(err.what()).find(bad) != std::string::npos);
    }
  }
}

TEST_CASE("http: answers with a length, chunked or until close are read whole", "[http]") {
  OneShotServer s({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
                   "HTTP/1.1 404 Not Found\r\n\r\ngone"});
  HttpConnection c(HttpEndpoint::parse(s.url()));
  auto r = c.post("/v3/kv/range", "{\"key\":\"a\"}", {{"Authorization", "t"}}, soon());
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  r = c.post("/x", "{}", {}, soon());
  CHECK(r.body == "abcde");
  c.close();
  r = c.post("/y", "{}", {}, soon());
  CHECK(r.status == 404);
  CHECK(r.body == "gone");
  REQUIRE(s.requests().size() == 3);
  CHECK(s.requests()[0].rfind("POST /v3/kv/range HTTP/1.1\r\n", 0) == 0);
  CHECK(s.requests()[0].find("Authorization: t\r\n") != std::string::npos);
  CHECK(s.requests()[0].find("Content-Length: 11\r\n") != std::string::npos);
}

TEST_CASE("http: what is not HTTP, and silence, are errors that name the endpoint", "[http]") {
  OneShotServer s({"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"});
  HttpConnection c(HttpEndpoint::parse(s.url()));
  try {
    c.post("/", "{}", {}, soon());
    FAIL("not HTTP was taken");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::http::bad_answer");
    CHECK(std::string(e.what()).find(s.url()) != std::string::npos);
  }
  try {
    c.post("/", "{}", {}, soon());
    FAIL("a cut answer was taken");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::http::unreachable");
  }
  CHECK_THROWS_AS(c.post("/", "{}", {{"X", "a\r\nInjected: 1"}}, soon()), ResourceError);
}

TEST_CASE("http: a stream hands out its lines as they come, across chunk boundaries", "[http]") {
  OneShotServer s({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5\r\n:1}\n{\r\n6\r\n\"b\":2}\r\n1\r\n\n\r\n0\r\n\r\n"});
  HttpConnection c(HttpEndpoint::parse(s.url()));
  const auto head = c.start_stream("/v3/watch", "{}", {}, soon());
  CHECK(head.status == 200);
  CHECK(c.next_line(soon()) == "{\"a\":1}");
  CHECK(c.next_line(soon()) == "{\"b\":2}");
  CHECK_THROWS_AS(c.next_line(soon()), ResourceError);  // the stream ended
}
