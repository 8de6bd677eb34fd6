#include "core/net/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/support/error.hpp"

namespace prov {

namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

int ms_until(HttpConnection::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - HttpConnection::Clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 1'000'000 ? 1'000'000 : static_cast<int>(left.count());
}

}  // namespace

HttpEndpoint HttpEndpoint::parse(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return ConfigError("provisioning::http::bad_url", "'" + std::string(url) + "' is not an endpoint: " + why,
                       "write it as http://HOST:PORT or https://HOST:PORT");
  };
  HttpEndpoint ep;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
    ep.tls = true;
    ep.port = 443;
  } else {
    throw bad("it does not start with http:// or https://");
  }
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    ep.base_path = std::string(rest.substr(slash));
    while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) throw bad("an IPv6 address without ']'");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') throw bad("text after the address");
  } else {
    const size_t colon = rest.rfind(':');
    host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (host.empty()) throw bad("no host");
  ep.host = std::string(host);
  if (!rest.empty()) {
    const std::string_view digits = rest.substr(1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
      throw bad("the port is not a number from 1 to 65535");
    ep.port = static_cast<uint16_t>(value);
  }
  return ep;
}

std::string HttpEndpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + base_path;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

void HttpConnection::close() {
  tls_session_.reset();  // before its socket
  fd_.reset();
  in_.clear();
  body_.clear();
  streaming_ = false;
  stream_ended_ = false;
}

void HttpConnection::connect(Clock::time_point deadline) {
  const auto unreachable = [&](const std::string& why) {
    return ResourceError("provisioning::http::unreachable", endpoint_.to_string() + " cannot be reached: " + why);
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (const int rc = ::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw unreachable(::gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      last_error = std::strerror(errno);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = std::strerror(errno);
        continue;
      }
      pollfd p{fd.get(), POLLOUT, 0};
      int rc;
      do rc = ::poll(&p, 1, ms_until(deadline));
      while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        ::freeaddrinfo(found);
        throw ResourceError("provisioning::http::timeout", endpoint_.to_string() + " did not accept a connection in time");
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = std::strerror(err);
        continue;
      }
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(found);
    if (endpoint_.tls) tls_session_ = TlsSession::connect(fd.get(), endpoint_.host, tls_, endpoint_.to_string(), deadline);
    fd_ = std::move(fd);
    return;
  }
  ::freeaddrinfo(found);
  throw unreachable(last_error);
}

void HttpConnection::send_request(std::string_view path, std::string_view body, const HttpHeaders& headers,
                                  Clock::time_point deadline) {
  if (streaming_) close();
  std::string req;
  req.reserve(256 + body.size());
  req += "POST ";
  req += endpoint_.base_path;
  req += path;
  req += " HTTP/1.1\r\nHost: ";
  req += endpoint_.host;
  req += "\r\nContent-Type: application/json\r\nContent-Length: ";
  req += std::to_string(body.size());
  req += "\r\n";
  for (const auto& [k, v] : headers) {
    if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      throw ResourceError("provisioning::http::bad_request", "a header with a line break or a colon in its name");
    req += k;
    req += ": ";
    req += v;
    req += "\r\n";
  }
  req += "\r\n";
  req += body;
  // A kept-alive connection the server closed meanwhile fails on first write or read: one retry
  // on a fresh connection, only when nothing of the answer came.
  for (int attempt = 0;; ++attempt) {
    if (!fd_) connect(deadline);
    size_t sent = 0;
    bool broken = false;
    while (sent < req.size()) {
      const auto step = write_some(req.data() + sent, req.size() - sent);
      if (step.n > 0) {
        sent += static_cast<size_t>(step.n);
        continue;
      }
      if (step.n == -1) {
        pollfd p{fd_.get(), step.wait_events, 0};
        if (::poll(&p, 1, ms_until(deadline)) == 0)
          throw ResourceError("provisioning::http::timeout", endpoint_.to_string() + " did not take the request in time");
        continue;
      }
      broken = true;
      break;
    }
    if (!broken) return;
    close();
    if (attempt > 0)
      throw ResourceError("provisioning::http::unreachable", endpoint_.to_string() + " closed the connection");
  }
}

TlsSession::Step HttpConnection::write_some(const char* data, size_t len) {
  if (tls_session_) return tls_session_->write(data, len);
  for (;;) {
    const ssize_t n = ::send(fd_.get(), data, len, MSG_NOSIGNAL);
    if (n > 0) return {n, 0};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {-1, POLLOUT};
    return {-2, 0};
  }
}

TlsSession::Step HttpConnection::read_some(char* buf, size_t len) {
  if (tls_session_) return tls_session_->read(buf, len);
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), buf, len, 0);
    if (n >= 0) return {n, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {-1, POLLIN};
    return {-2, 0};
  }
}

bool HttpConnection::fill(Clock::time_point deadline) {
  char buf[16384];
  for (;;) {
    const auto step = read_some(buf, sizeof buf);
    if (step.n > 0) {
      in_.append(buf, static_cast<size_t>(step.n));
      // What TLS decrypted beyond this read does not show when the socket is polled: take it now.
      while (tls_session_ && tls_session_->pending() > 0) {
        const auto more = read_some(buf, sizeof buf);
        if (more.n <= 0) break;
        in_.append(buf, static_cast<size_t>(more.n));
      }
      return true;
    }
    if (step.n == -2 && tls_session_ && !tls_session_->broken_because().empty()) {
      const std::string why = tls_session_->broken_because();
      close();
      throw ResourceError("provisioning::http::tls", "TLS with " + endpoint_.to_string() + " failed: " + why);
    }
    if (step.n == 0 || step.n == -2) return false;
    pollfd p{fd_.get(), step.wait_events, 0};
    const int rc = ::poll(&p, 1, ms_until(deadline));
    if (rc == 0) throw ResourceError("provisioning::http::timeout", endpoint_.to_string() + " did not answer in time");
  }
}

std::string HttpConnection::read_line_crlf(Clock::time_point deadline) {
  for (;;) {
    const size_t at = in_.find("\r\n");
    if (at != std::string::npos) {
      std::string line = in_.substr(0, at);
      in_.erase(0, at + 2);
      return line;
    }
    if (in_.size() > kMaxHeadBytes)
      throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a line longer than 64 KiB");
    if (!fill(deadline)) {
      close();
      throw ResourceError("provisioning::http::unreachable", endpoint_.to_string() + " closed the connection");
    }
  }
}

std::string HttpConnection::read_exact(size_t n, Clock::time_point deadline) {
  while (in_.size() < n) {
    if (!fill(deadline)) {
      close();
      throw ResourceError("provisioning::http::unreachable", endpoint_.to_string() + " closed the connection mid-answer");
    }
  }
  std::string out = in_.substr(0, n);
  in_.erase(0, n);
  return out;
}

HttpResponse HttpConnection::read_head(Clock::time_point deadline) {
  const auto bad = [&](const std::string& why) {
    close();
    return ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " answered what is not HTTP: " + why);
  };
  HttpResponse r;
  const std::string status = read_line_crlf(deadline);
  if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12) throw bad("status line '" + status.substr(0, 40) + "'");
  const auto [end, ec] = std::from_chars(status.data() + 9, status.data() + 12, r.status);
  if (ec != std::errc() || end != status.data() + 12) throw bad("status line '" + status.substr(0, 40) + "'");
  size_t head_bytes = status.size();
  for (;;) {
    std::string line = read_line_crlf(deadline);
    if (line.empty()) break;
    head_bytes += line.size();
    if (head_bytes > kMaxHeadBytes) throw bad("headers longer than 64 KiB");
    const size_t colon = line.find(':');
    if (colon == std::string::npos) throw bad("a header without ':'");
    std::string value = line.substr(colon + 1);
    const size_t first = value.find_first_not_of(" \t");
    value = first == std::string::npos ? std::string() : value.substr(first);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    r.headers.emplace_back(line.substr(0, colon), std::move(value));
  }
  return r;
}

HttpResponse HttpConnection::read_head_retrying(std::string_view path, std::string_view body,
                                                const HttpHeaders& headers, Clock::time_point deadline) {
  // A kept-alive connection that the server closed while idle takes the request and then reads
  // as closed: nothing of it was served, so it is sent once more on a new connection.
  const bool reused = static_cast<bool>(fd_) && !streaming_;
  send_request(path, body, headers, deadline);
  if (!reused) return read_head(deadline);
  try {
    return read_head(deadline);
  } catch (const ResourceError& e) {
    if (e.code() != "provisioning::http::unreachable") throw;
  }
  send_request(path, body, headers, deadline);
  return read_head(deadline);
}

HttpResponse HttpConnection::post(std::string_view path, std::string_view body, const HttpHeaders& headers,
                                  Clock::time_point deadline) {
  HttpResponse r = read_head_retrying(path, body, headers, deadline);
  if (iequals(r.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      const std::string size_line = read_line_crlf(deadline);
      size_t size = 0;
      const auto [end, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (ec != std::errc() || end == size_line.data()) {
        close();
        throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a bad chunk size");
      }
      if (r.body.size() + size > kMaxBodyBytes) {
        close();
        throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent an answer over 64 MiB");
      }
      if (size == 0) {
        while (!read_line_crlf(deadline).empty()) {}  // trailers
        break;
      }
      r.body += read_exact(size, deadline);
      if (!read_line_crlf(deadline).empty()) {
        close();
        throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a chunk without its end");
      }
    }
  } else if (const std::string length = r.header("Content-Length"); !length.empty()) {
    size_t size = 0;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (ec != std::errc() || end != length.data() + length.size() || size > kMaxBodyBytes) {
      close();
      throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a bad Content-Length");
    }
    r.body = read_exact(size, deadline);
  } else {
    while (fill(deadline)) {
      if (in_.size() > kMaxBodyBytes) {
        close();
        throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent an answer over 64 MiB");
      }
    }
    r.body = std::move(in_);
    close();
    return r;
  }
  if (iequals(r.header("Connection"), "close")) close();
  return r;
}

HttpResponse HttpConnection::start_stream(std::string_view path, std::string_view body, const HttpHeaders& headers,
                                          Clock::time_point deadline) {
  HttpResponse r = read_head_retrying(path, body, headers, deadline);
  streaming_ = true;
  stream_chunked_ = iequals(r.header("Transfer-Encoding"), "chunked");
  stream_ended_ = false;
  body_.clear();
  return r;
}

bool HttpConnection::decode_chunks() {
  if (!stream_chunked_) {
    body_ += in_;
    in_.clear();
    return true;
  }
  for (;;) {
    const size_t eol = in_.find("\r\n");
    if (eol == std::string::npos) return true;
    size_t size = 0;
    const auto [end, ec] = std::from_chars(in_.data(), in_.data() + eol, size, 16);
    if (ec != std::errc() || end == in_.data())
      throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a bad chunk size");
    if (size == 0) return false;
    if (in_.size() < eol + 2 + size + 2) return true;
    body_.append(in_, eol + 2, size);
    in_.erase(0, eol + 2 + size + 2);
    if (body_.size() > kMaxBodyBytes)
      throw ResourceError("provisioning::http::bad_answer", endpoint_.to_string() + " sent a line over 64 MiB");
  }
}

bool HttpConnection::has_buffered_line() {
  if (streaming_ && !stream_ended_ && !decode_chunks()) stream_ended_ = true;
  return body_.find('\n') != std::string::npos;
}

std::optional<std::string> HttpConnection::next_line(Clock::time_point deadline) {
  for (;;) {
    // What the last read brought beyond the head (or beyond the last line) is decoded first.
    if (!stream_ended_ && !decode_chunks()) stream_ended_ = true;
    if (const size_t nl = body_.find('\n'); nl != std::string::npos) {
      std::string line = body_.substr(0, nl);
      body_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (stream_ended_ || !fd_) {
      close();
      throw ResourceError("provisioning::http::unreachable", endpoint_.to_string() + " ended the stream");
    }
    if (Clock::now() >= deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 0) return std::nullopt;
    }
    try {
      if (!fill(deadline)) stream_ended_ = true;
    } catch (const ResourceError& e) {
      if (e.code() == "provisioning::http::timeout") return std::nullopt;
      throw;
    }
  }
}

}  // namespace prov
