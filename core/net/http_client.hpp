#pragma once
/// A small HTTP/1.1 client for JSON APIs over TCP, with TLS for https:// endpoints
/// (core/net/tls_session.hpp): one connection, kept alive, requests one after another, every
/// wait bounded by a deadline. Enough for etcd's v3 JSON gateway
/// (POST with a JSON body; answers with a Content-Length or chunked, and streams of
/// newline-separated JSON messages for watches), without a library that every process of the
/// product would load at start.

#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net/tls_session.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

/// Where an HTTP server is: from "http://host:port[/base]" or "https://…".
struct HttpEndpoint {
  std::string host;
  uint16_t port = 80;
  bool tls = false;  ///< https://
  std::string base_path;  ///< prefix of every request's path, without a final '/'; may be empty
  /// The endpoint of `url`. Throws ConfigError `provisioning::http::bad_url` naming it (only
  /// http:// and https:// URLs with a host are taken; the port defaults to 80 and 443).
  static HttpEndpoint parse(std::string_view url);
  std::string to_string() const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  /// The value of header `name` (compared without case); empty when absent.
  std::string header(std::string_view name) const;
};

/// One connection to an endpoint, made on first use and again after the server closed it.
/// Not thread-safe: one caller at a time.
class HttpConnection {
 public:
  using Clock = std::chrono::steady_clock;
  /// `tls` is used for an https:// endpoint.
  explicit HttpConnection(HttpEndpoint endpoint, TlsOptions tls = {})
      : endpoint_(std::move(endpoint)), tls_(std::move(tls)) {}

  const HttpEndpoint& endpoint() const { return endpoint_; }

  /// POSTs `body` (JSON) to `path` and reads the whole answer. Throws ResourceError
  /// `provisioning::http::unreachable` when the server cannot be reached or the connection broke
  /// before an answer, `provisioning::http::timeout` past `deadline`, and
  /// `provisioning::http::bad_answer` for an answer that is not HTTP/1.1 as it should be.
  HttpResponse post(std::string_view path, std::string_view body, const HttpHeaders& headers,
                    Clock::time_point deadline);

  /// Starts a POST whose answer is a stream: reads the status and headers, then hands out the
  /// body's lines with next_line(). The connection serves nothing else until the stream ends or
  /// close() is called.
  HttpResponse start_stream(std::string_view path, std::string_view body, const HttpHeaders& headers,
                            Clock::time_point deadline);
  /// The next line of the streamed body (without its newline); nullopt at `deadline` with no
  /// whole line yet. Throws `provisioning::http::unreachable` when the stream ended or broke.
  std::optional<std::string> next_line(Clock::time_point deadline);
  /// The descriptor to poll for more of a stream (-1 when not connected); data may already be
  /// buffered: call has_buffered_line() first.
  int fd() const { return fd_.get(); }
  bool has_buffered_line();

  /// Closes the connection (a stream with it).
  void close();

 private:
  void connect(Clock::time_point deadline);
  void send_request(std::string_view path, std::string_view body, const HttpHeaders& headers,
                    Clock::time_point deadline);
  HttpResponse read_head(Clock::time_point deadline);
  HttpResponse read_head_retrying(std::string_view path, std::string_view body, const HttpHeaders& headers,
                                  Clock::time_point deadline);
  /// Sends what it can of `data`: TlsSession's Step, for the socket or its TLS session.
  TlsSession::Step write_some(const char* data, size_t len);
  TlsSession::Step read_some(char* buf, size_t len);
  /// Reads more bytes into in_; false when the peer closed the connection.
  bool fill(Clock::time_point deadline);
  std::string read_exact(size_t n, Clock::time_point deadline);
  std::string read_line_crlf(Clock::time_point deadline);
  /// Moves whole chunks of a chunked stream from in_ to body_ without waiting; false at its end.
  bool decode_chunks();

  HttpEndpoint endpoint_;
  TlsOptions tls_;
  UniqueFd fd_;
  std::unique_ptr<TlsSession> tls_session_;  ///< over fd_, for an https:// endpoint
  std::string in_;  ///< bytes read and not yet consumed
  bool streaming_ = false;
  bool stream_chunked_ = false;
  bool stream_ended_ = false;
  std::string body_;  ///< decoded stream body not yet handed out
};

}  // namespace prov
