#pragma once
/// Where the service listens: `HOST:PORT` as `--listen` or `service.listen` give it (`[::1]:9090`
/// for IPv6), and whether that is a loopback address (which alone may go without TLS).
#include <optional>
#include <string>

namespace prov::service {

struct ListenAddress {
  std::string host = "127.0.0.1";
  int port = 9090;  ///< 0: any free port (the one taken is reported when the service is ready)
  bool loopback() const;
  /// `host:port`, IPv6 hosts in brackets.
  std::string text() const;
};

/// Parses `text`. Throws ConfigError `provisioning::service::bad_listen` naming `what` (the flag
/// or key it came from) when it is not HOST:PORT with a port from 0 to 65535.
ListenAddress parse_listen(const std::string& text, const std::string& what);

}  // namespace prov::service
