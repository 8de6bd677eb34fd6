#include "core/net/tls_session.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <mutex>

#include "core/support/error.hpp"

namespace prov {

namespace {

/// OpenSSL's functions this file calls, looked up once in the library loaded at first use.
struct OpenSsl {
#define PROV_SSL_FUNCTIONS(X)                                                                                     \
  X(TLS_client_method)                                                                                            \
  X(SSL_CTX_new)                                                                                                  \
  X(SSL_CTX_free) X(SSL_CTX_ctrl) X(SSL_CTX_set_verify) X(SSL_CTX_load_verify_locations)                          \
      X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file)    \
          X(SSL_CTX_check_private_key) X(SSL_new) X(SSL_free) X(SSL_set_fd) X(SSL_ctrl) X(SSL_set1_host)          \
              X(SSL_get0_param) X(SSL_connect) X(SSL_read) X(SSL_write) X(SSL_get_error) X(SSL_get_verify_result) \
                  X(SSL_pending) X(SSL_shutdown) X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error)        \
                      X(X509_verify_cert_error_string) X(X509_VERIFY_PARAM_set1_ip_asc)
#define PROV_SSL_MEMBER(name) decltype(&::name) name = nullptr;
  PROV_SSL_FUNCTIONS(PROV_SSL_MEMBER)
#undef PROV_SSL_MEMBER
  std::string error;  ///< why it could not be loaded; empty when it was
};

const OpenSsl& openssl() {
  static OpenSsl lib;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = nullptr;
    for (const char* name : {"libssl.so.3", "libssl.so"})
      if ((handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!handle) {
      lib.error = "OpenSSL (libssl3) is not installed";
      return;
    }
    // dlsym on the library's handle also finds what it takes from libcrypto.
#define PROV_SSL_LOOKUP(name)                                                       \
  lib.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name));           \
  if (!lib.name) {                                                                  \
    lib.error = "the OpenSSL library found has no " #name " (OpenSSL 3 is needed)"; \
    return;                                                                         \
  }
    PROV_SSL_FUNCTIONS(PROV_SSL_LOOKUP)
#undef PROV_SSL_LOOKUP
  });
  return lib;
}

/// OpenSSL's queued errors as one text, the queue emptied.
std::string queued_errors(const OpenSsl& ssl) {
  std::string out;
  while (const unsigned long e = ssl.ERR_get_error()) {
    char buf[256];
    ssl.ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

int ms_until(TlsSession::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TlsSession::Clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 1'000'000 ? 1'000'000 : static_cast<int>(left.count());
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

struct TlsSession::State {
  const OpenSsl& ssl;
  SSL_CTX* ctx = nullptr;
  SSL* conn = nullptr;
  explicit State(const OpenSsl& s) : ssl(s) {}
  ~State() {
    if (conn) {
      ssl.SSL_shutdown(conn);  // a close_notify when the socket takes it; never waited for
      ssl.SSL_free(conn);
    }
    if (ctx) ssl.SSL_CTX_free(ctx);
  }
};

TlsSession::TlsSession(std::unique_ptr<State> s) : s_(std::move(s)) {}
TlsSession::~TlsSession() = default;

std::unique_ptr<TlsSession> TlsSession::connect(int fd, const std::string& host, const TlsOptions& options,
                                                const std::string& peer, Clock::time_point deadline) {
  const OpenSsl& ssl = openssl();
  const auto fail = [&](const std::string& why) {
    return ResourceError("provisioning::http::tls", "TLS with " + peer + " failed: " + why);
  };
  if (!ssl.error.empty()) throw fail(ssl.error);
  ssl.ERR_clear_error();
  auto state = std::make_unique<State>(ssl);
  state->ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
  if (!state->ctx) throw fail(queued_errors(ssl));
  ssl.SSL_CTX_ctrl(state->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  ssl.SSL_CTX_set_verify(state->ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (ssl.SSL_CTX_set_default_verify_paths(state->ctx) != 1)
      throw fail("the system's trusted authorities cannot be loaded: " + queued_errors(ssl));
  } else if (ssl.SSL_CTX_load_verify_locations(state->ctx, options.ca_file.c_str(), nullptr) != 1) {
    throw fail("the authorities in '" + options.ca_file + "' cannot be loaded: " + queued_errors(ssl));
  }
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty())
      throw fail("a client certificate needs both cert_file and key_file");
    if (ssl.SSL_CTX_use_certificate_chain_file(state->ctx, options.cert_file.c_str()) != 1)
      throw fail("the certificate in '" + options.cert_file + "' cannot be loaded: " + queued_errors(ssl));
    if (ssl.SSL_CTX_use_PrivateKey_file(state->ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw fail("the key in '" + options.key_file + "' cannot be loaded: " + queued_errors(ssl));
    if (ssl.SSL_CTX_check_private_key(state->ctx) != 1)
      throw fail("the key in '" + options.key_file + "' is not the certificate's: " + queued_errors(ssl));
  }
  state->conn = ssl.SSL_new(state->ctx);
  if (!state->conn || ssl.SSL_set_fd(state->conn, fd) != 1) throw fail(queued_errors(ssl));
  if (is_ip_address(host)) {
    if (ssl.X509_VERIFY_PARAM_set1_ip_asc(ssl.SSL_get0_param(state->conn), host.c_str()) != 1)
      throw fail(queued_errors(ssl));
  } else {
    ssl.SSL_ctrl(state->conn, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
    if (ssl.SSL_set1_host(state->conn, host.c_str()) != 1) throw fail(queued_errors(ssl));
  }
  for (;;) {
    const int rc = ssl.SSL_connect(state->conn);
    if (rc == 1) break;
    const int err = ssl.SSL_get_error(state->conn, rc);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ)
      events = POLLIN;
    else if (err == SSL_ERROR_WANT_WRITE)
      events = POLLOUT;
    if (events == 0) {
      const long verify = ssl.SSL_get_verify_result(state->conn);
      if (verify != X509_V_OK)
        throw fail(std::string("its certificate does not verify: ") + ssl.X509_verify_cert_error_string(verify));
      std::string why = queued_errors(ssl);
      if (why.empty())
        why = err == SSL_ERROR_SYSCALL ? "the connection broke during the handshake" : "the handshake failed";
      throw fail(why);
    }
    pollfd p{fd, events, 0};
    int polled;
    do polled = ::poll(&p, 1, ms_until(deadline));
    while (polled < 0 && errno == EINTR);
    if (polled == 0)
      throw ResourceError("provisioning::http::timeout", peer + " did not finish the TLS handshake in time");
  }
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(state)));
}

TlsSession::Step TlsSession::step(int rc) {
  if (rc > 0) return {rc, 0};
  const int err = s_->ssl.SSL_get_error(s_->conn, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ: return {-1, POLLIN};
    case SSL_ERROR_WANT_WRITE: return {-1, POLLOUT};
    case SSL_ERROR_ZERO_RETURN: return {0, 0};
    default: {
      // A peer that closes without TLS's own goodbye reads as an "unexpected eof": closed, as
      // a kept-alive connection may be; anything else is said.
      std::string why = queued_errors(s_->ssl);
      broken_because_ = why.find("unexpected eof") != std::string::npos ? "" : std::move(why);
      return {-2, 0};
    }
  }
}

TlsSession::Step TlsSession::read(char* buf, size_t len) {
  return step(s_->ssl.SSL_read(s_->conn, buf, static_cast<int>(len > 1 << 30 ? 1 << 30 : len)));
}

TlsSession::Step TlsSession::write(const char* buf, size_t len) {
  return step(s_->ssl.SSL_write(s_->conn, buf, static_cast<int>(len > 1 << 30 ? 1 << 30 : len)));
}

size_t TlsSession::pending() const {
  const int n = s_->ssl.SSL_pending(s_->conn);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace prov
