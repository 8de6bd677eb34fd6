#pragma once
/// The HTTP side of the service (cpp-httplib): registers the route table (api.hpp), checks the
/// bearer token, wraps answers and errors in the envelope, streams events as Server-Sent Events,
/// and keeps to the limits: request body size (limits.request_size), concurrent connections
/// (limits.connections: the worker pool), live streams (limits.streams), header size (8 KiB,
/// the library's), and 5 s for a client to send its request.
#include <functional>
#include <memory>
#include <string>

#include "service/api.hpp"
#include "service/listen_address.hpp"

namespace prov::service {

struct TlsFiles {
  std::string cert_file, key_file;  ///< both empty: plain HTTP
};

class HttpServer {
 public:
  /// `token` gives the current bearer token (read anew, so a rotated token takes effect).
  HttpServer(ServiceContext& ctx, std::function<std::string()> token, const TlsFiles& tls);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  /// Binds `at` (port 0: any free one) and returns the address taken. Throws ResourceError
  /// `provisioning::service::bind` naming it when it cannot.
  ListenAddress bind(const ListenAddress& at);
  /// Serves until stop().
  void serve();
  /// Ends serve(): live streams end within a second.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prov::service
