#include "service/listen_address.hpp"

#include <arpa/inet.h>

#include "core/support/error.hpp"

namespace prov::service {

bool ListenAddress::loopback() const {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (::inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

std::string ListenAddress::text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ListenAddress parse_listen(const std::string& text, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return ConfigError("provisioning::service::bad_listen", what + " '" + text + "' " + why,
                       "write HOST:PORT, e.g. 127.0.0.1:9090 or [::1]:9090 (port 0: any free port)");
  };
  ListenAddress a;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw bad("is not [IPV6]:PORT");
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) throw bad("has no HOST:PORT");
    a.host = text.substr(0, colon);
    if (a.host.find(':') != std::string::npos) throw bad("has an IPv6 host without brackets");
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) throw bad("has no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw bad("has no port number");
  a.port = std::stoi(port);
  if (a.port > 65535) throw bad("has a port above 65535");
  return a;
}

}  // namespace prov::service
