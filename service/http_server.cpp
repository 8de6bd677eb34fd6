#include "service/http_server.hpp"

#include <httplib.h>

#include <cstdio>
#include <regex>

#include "core/engine/workflow_record.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "service/envelope.hpp"
#include "service/token.hpp"

namespace prov::service {

namespace {

/// "/workflows/{id}/status" as the library's regex: "/workflows/([^/]+)/status".
std::string route_regex(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      out += "([^/]+)";
    } else if (std::string("\\^$.|?*+()[]").find(path[i]) != std::string::npos) {
      out += '\\';
      out += path[i];
    } else {
      out += path[i];
    }
  }
  return out;
}

/// An event as one Server-Sent Event.
std::string sse_event(const Event& e) { return "event: " + e.type + "\ndata: " + http_json(e.to_datum()) + "\n\n"; }

/// Counts a live stream for as long as it lives.
struct StreamSlot {
  std::atomic<int>& count;
  explicit StreamSlot(std::atomic<int>& c) : count(c) { ++count; }
  ~StreamSlot() { --count; }
};

}  // namespace

struct HttpServer::Impl {
  ServiceContext& ctx;
  std::function<std::string()> token;
  std::unique_ptr<httplib::Server> server;
  int listen_fd = -1;  ///< the listening socket, seen when the library made it

  void log(const httplib::Request& req, int status, const std::string& request_id) {
    std::fprintf(stderr, "%s %s %s %d %s\n", now_utc().rfc3339.c_str(), req.method.c_str(), req.path.c_str(), status,
                 request_id.c_str());
  }

  void send_error(httplib::Response& res, const Error& e, const std::string& request_id) {
    res.status = http_status(e);
    if (res.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(error_envelope(e, request_id), "application/json");
  }

  void stream(httplib::Response& res, std::shared_ptr<EventFeed> feed, std::optional<std::string> until) {
    auto slot = std::make_shared<StreamSlot>(ctx.streams);
    res.set_header("Cache-Control", "no-cache");
    auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    ServiceContext* c = &ctx;
    res.set_chunked_content_provider(
        "text/event-stream",
        [c, feed, until, slot, last_write](size_t, httplib::DataSink& sink) -> bool {
          if (c->stopping) {
            sink.done();
            return true;
          }
          // Whether anyone still writes, asked before reading: what a runner wrote before
          // letting go is read after.
          const bool alive = until ? c->store->claim_holder(*until).has_value() : true;
          std::string out;
          for (const Event& e : feed->poll()) out += sse_event(e);
          if (!out.empty()) {
            *last_write = std::chrono::steady_clock::now();
            return sink.write(out.data(), out.size());
          }
          if (!alive) {
            sink.done();
            return true;
          }
          if (until) feed->watch_runner(*until);
          feed->wait(std::chrono::milliseconds(1000));
          // A comment now and then finds a client that went away.
          if (std::chrono::steady_clock::now() - *last_write > std::chrono::seconds(15)) {
            *last_write = std::chrono::steady_clock::now();
            static const std::string ping = ": keep-alive\n\n";
            return sink.write(ping.data(), ping.size());
          }
          return sink.is_writable();
        },
        [slot](bool) {});
  }

  void handle(const ApiRoute& route, const httplib::Request& req, httplib::Response& res) {
    const std::string request_id = new_request_id();
    res.set_header("X-Request-Id", request_id);
    try {
      if (route.needs_token && !authorized(req.get_header_value("Authorization"), token()))
        throw Error("provisioning::service::unauthorized",
                    req.has_header("Authorization") ? "the bearer token is wrong" : "this route needs a bearer token",
                    "send Authorization: Bearer <token>; the token is in <state>/serve/token");
      ApiRequest r;
      r.method = req.method;
      r.path = req.path;
      for (size_t i = 1; i < req.matches.size(); ++i) r.params.push_back(req.matches[i].str());
      for (const auto& [k, v] : req.params) r.query.emplace_back(k, v);
      r.body = req.body;
      r.accept = req.get_header_value("Accept");
      r.request_id = request_id;
      if (route.streams && r.accept.find("text/event-stream") != std::string::npos &&
          ctx.streams.load() >= ctx.limits.streams)
        throw LimitError("provisioning::limits::streams",
                         "the service already keeps " + std::to_string(ctx.limits.streams) +
                             " event streams (limits.streams)",
                         limit_help("streams"));
      ApiResponse out = route.handler(r, ctx);
      res.status = out.status;
      if (out.feed) {
        stream(res, std::move(out.feed), out.stream_until);
      } else if (out.text) {
        res.set_content(*out.text, out.content_type.c_str());
      } else {
        res.set_content(data_envelope(out.data, request_id, out.envelope_status), "application/json");
      }
    } catch (const Error& e) {
      send_error(res, e, request_id);
    } catch (const std::exception& e) {
      send_error(res, Error("provisioning::service::internal", e.what()), request_id);
    }
    log(req, res.status, request_id);
  }
};

HttpServer::HttpServer(ServiceContext& ctx, std::function<std::string()> token, const TlsFiles& tls)
    : impl_(new Impl{ctx, std::move(token), nullptr, -1}) {
  if (!tls.cert_file.empty()) {
    auto s = std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str());
    if (!s->is_valid())
      throw ConfigError("provisioning::service::tls",
                        "cannot load the TLS certificate " + tls.cert_file + " and key " + tls.key_file,
                        "service.tls.cert_file and key_file must name a PEM certificate and its private key");
    impl_->server = std::move(s);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& s = *impl_->server;
  const size_t workers = static_cast<size_t>(std::max<int64_t>(2, ctx.limits.connections));
  s.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  s.set_payload_max_length(static_cast<size_t>(ctx.limits.request_size));
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_max_count(100);
  s.set_keep_alive_timeout(5);
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, which would let a second
  // program bind the same port and take part of the requests.
  s.set_socket_options([impl = impl_.get()](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl->listen_fd = sock;
  });
  Impl* impl = impl_.get();
  for (const ApiRoute& route : api_routes()) {
    const std::string pattern = route_regex(route.path);
    auto handler = [impl, &route](const httplib::Request& req, httplib::Response& res) { impl->handle(route, req, res); };
    const std::string m = route.method;
    if (m == "GET") s.Get(pattern, handler);
    else if (m == "POST") s.Post(pattern, handler);
    else if (m == "DELETE") s.Delete(pattern, handler);
  }
  // What no handler answered (an unknown route, a body over the limit) gets the envelope too.
  s.set_error_handler([impl](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string request_id = new_request_id();
    if (res.status == 413) {
      impl->send_error(res,
                       LimitError("provisioning::limits::request_size",
                                  "the request body is over the limit of " + std::to_string(impl->ctx.limits.request_size) +
                                      " bytes (limits.request_size)",
                                  limit_help("request_size")),
                       request_id);
      res.status = 413;
    } else if (res.status == 404) {
      impl->send_error(res, Error("provisioning::service::not_found", "no route " + req.method + " " + req.path.substr(0, 200),
                                  "GET /openapi.json lists the routes"),
                       request_id);
      res.status = 404;
    } else {
      impl->send_error(res, Error("provisioning::service::bad_request", "the request was refused (HTTP " +
                                                                            std::to_string(res.status) + ")"),
                       request_id);
    }
    impl->log(req, res.status, request_id);
  });
}

HttpServer::~HttpServer() = default;

ListenAddress HttpServer::bind(const ListenAddress& at) {
  ListenAddress taken = at;
  if (at.port == 0) {
    const int port = impl_->server->bind_to_any_port(at.host);
    if (port > 0) taken.port = port;
    else taken.port = -1;
  } else if (!impl_->server->bind_to_port(at.host, at.port)) {
    taken.port = -1;
  }
  if (taken.port < 0)
    throw ResourceError("provisioning::service::bind", "cannot listen on " + at.text() + ": " + std::strerror(errno),
                        "another program may use that port: choose another with --listen or service.listen");
  // The library listens with a backlog of 5: a burst of clients would wait a second for their
  // SYN to be sent again. Listening again only raises the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return taken;
}

void HttpServer::serve() { impl_->server->listen_after_bind(); }

void HttpServer::stop() {
  impl_->ctx.stopping = true;
  impl_->server->stop();
}

}  // namespace prov::service
