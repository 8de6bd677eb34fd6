#pragma once
/// TLS on a connected, non-blocking socket, for the HTTP client's https:// endpoints.
///
/// OpenSSL (Debian's libssl3) is loaded with dlopen on the first TLS connection, not linked:
/// a program linked with it starts about 10 ms later, which every plugin start, runner and
/// supervisor would pay whether or not the workspace has a TLS endpoint. The prototypes come
/// from OpenSSL's own headers, so each looked-up function keeps its exact type.
///
/// The peer is always verified: its chain against `ca_file` (or the system's trusted
/// authorities when none is given) and its name against the host the URL names.

#include <sys/types.h>
#include <chrono>
#include <memory>
#include <string>

namespace prov {

struct TlsOptions {
  std::string ca_file;    ///< PEM authorities to trust; empty: the system's
  std::string cert_file;  ///< PEM client certificate (chain), for servers that ask for one
  std::string key_file;   ///< its PEM private key
  bool operator==(const TlsOptions&) const = default;
};

/// One TLS session over a socket that the caller owns and keeps open while the session lives.
class TlsSession {
 public:
  using Clock = std::chrono::steady_clock;

  /// Shakes hands over `fd` (connected, non-blocking) with server `host`, waiting at most until
  /// `deadline`. Throws ResourceError `provisioning::http::tls` naming `peer` and what failed
  /// (OpenSSL not installed, a file that cannot be read, a certificate that does not verify and
  /// why), or `provisioning::http::timeout`.
  static std::unique_ptr<TlsSession> connect(int fd, const std::string& host, const TlsOptions& options,
                                             const std::string& peer, Clock::time_point deadline);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  /// What a read or write did: `n` > 0 bytes moved; 0 the peer closed; -1 it would block (poll
  /// for `wait_events`, then call again); -2 the connection broke.
  struct Step {
    ssize_t n = 0;
    short wait_events = 0;
  };
  Step read(char* buf, size_t len);
  Step write(const char* buf, size_t len);
  /// Decrypted bytes held inside the session, which polling the socket does not show.
  size_t pending() const;
  /// Why the last read or write broke (-2), as OpenSSL tells it (e.g. the server's alert that it
  /// wants a client certificate); empty when the peer only closed the connection.
  const std::string& broken_because() const { return broken_because_; }

 private:
  struct State;
  explicit TlsSession(std::unique_ptr<State> s);
  Step step(int rc);
  std::unique_ptr<State> s_;
  std::string broken_because_;
};

}  // namespace prov
