#include "core/ops/closure_channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/limits.hpp"

namespace prov {

namespace {

/// A socket address for `path`. Paths longer than sun_path are reached through
/// the directory's descriptor (/proc/self/fd/N/name); `dir_fd` keeps that
/// descriptor open while it is used.
struct SocketAddress {
  sockaddr_un addr{};
  int dir_fd = -1;
  explicit SocketAddress(const std::string& path) {
    addr.sun_family = AF_UNIX;
    std::string p = path;
    if (p.size() >= sizeof(addr.sun_path)) {
      const size_t slash = p.rfind('/');
      dir_fd = ::open(p.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      p = "/proc/self/fd/" + std::to_string(dir_fd) + p.substr(slash);
    }
    std::memcpy(addr.sun_path, p.data(), std::min(p.size(), sizeof(addr.sun_path) - 1));
  }
  ~SocketAddress() {
    if (dir_fd >= 0) ::close(dir_fd);
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

/// Waits up to `ms` for `events` on `fd`; polls in short steps so that `cancel`
/// is seen.
bool wait_fd(int fd, short events, int ms, CancelToken* cancel) {
  for (int waited = 0; ms < 0 || waited < ms; waited += 100) {
    if (cancel && cancel->cancelled()) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, 100);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && wait_fd(fd, POLLOUT, 5000, nullptr)) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

/// How read_line ended.
enum class LineEnd { line, closed, too_large };

/// Reads one line (without its newline) into `out`, in time linear in its length: each chunk
/// is searched once. `closed`: EOF before the newline, timeout or cancel; `too_large`: more
/// than `max` bytes came before a newline (reading stops there).
LineEnd read_line(int fd, int ms, CancelToken* cancel, size_t max, std::string& out) {
  out.clear();
  std::vector<char> buf(size_t{1} << 16);
  while (true) {
    if (!wait_fd(fd, POLLIN, ms, cancel)) return LineEnd::closed;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return LineEnd::closed;
    const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', static_cast<size_t>(n)));
    out.append(buf.data(), nl ? static_cast<size_t>(nl - buf.data()) : static_cast<size_t>(n));
    if (out.size() > max) return LineEnd::too_large;
    if (nl) return LineEnd::line;
  }
}

std::string field_string(const Datum& d, const char* key) {
  const Datum* f = d.find(key);
  return f && f->is_string() ? f->str() : std::string();
}

}  // namespace

ClosureChannelServer::ClosureChannelServer(std::string path) : path_(std::move(path)) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  SocketAddress a(path_);
  ::unlink(path_.c_str());
  if (fd_ < 0 || ::bind(fd_, a.get(), sizeof a.addr) != 0 || ::chmod(path_.c_str(), 0600) != 0 ||
      ::listen(fd_, 16) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw ResourceError("provisioning::state::channel", "cannot listen at " + path_ + ": " + why);
  }
}

ClosureChannelServer::~ClosureChannelServer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

bool ClosureChannelServer::serve_one(const std::function<ClosureReply(const ClosureRequest&)>& eval) {
  int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  ClosureReply reply;
  std::string line;
  if (read_line(c, 5000, nullptr, static_cast<size_t>(Limits::process().message_size), line) == LineEnd::line) {
    try {
      Datum d = decode_json(line);
      ClosureRequest req;
      const Datum* ref = d.find("ref");
      if (!ref || !std::holds_alternative<int64_t>(ref->v)) throw std::runtime_error("no reference");
      req.ref = std::get<int64_t>(ref->v);
      req.operation = field_string(d, "operation");
      if (const Datum* in = d.find("input")) req.input = *in;
      reply = eval(req);
    } catch (const std::exception& e) {
      reply.message = std::string("malformed closure request: ") + e.what();
    }
    Datum out = DatumRecord{{"ok", reply.ok}, {"output", reply.output}, {"message", reply.message}};
    write_all(c, encode_json(out) + "\n");
  }
  ::close(c);
  return true;
}

ClosureReply request_closure(const std::string& path, const ClosureRequest& req, CancelToken* cancel,
                             const Limits& limits) {
  ClosureReply gone;
  gone.session_gone = true;
  gone.message =
      "this operation's closure belonged to the Nu session that ran "
      "the workflow, and that session is gone; "
      "re-run it with `prov workflow run`";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return gone;
  SocketAddress a(path);
  if (::connect(fd, a.get(), sizeof a.addr) != 0) {
    ::close(fd);
    return gone;
  }
  Datum msg = DatumRecord{{"ref", Datum(req.ref)}, {"operation", req.operation}, {"input", req.input}};
  std::string line;
  LineEnd end = LineEnd::closed;
  if (write_all(fd, encode_json(msg) + "\n"))
    end = read_line(fd, -1, cancel, static_cast<size_t>(limits.message_size), line);
  ::close(fd);
  if (end == LineEnd::too_large) {
    ClosureReply r;
    try {
      check_message_size(line.size(), limits, "the answer of the Nu session that evaluated the closure");
    } catch (const LimitError& e) {
      r.code = e.code();
      r.message = std::string(e.what()) + "; " + e.help();
    }
    return r;
  }
  if (end != LineEnd::line) {
    if (cancel && cancel->cancelled()) {
      ClosureReply r;
      r.message = "cancelled while the Nu session evaluated the closure";
      return r;
    }
    return gone;
  }
  ClosureReply r;
  try {
    Datum d = decode_json(line);
    const Datum* ok = d.find("ok");
    r.ok = ok && std::holds_alternative<bool>(ok->v) && std::get<bool>(ok->v);
    r.output = field_string(d, "output");
    r.message = field_string(d, "message");
  } catch (const std::exception& e) {
    r.message = std::string("malformed answer from the Nu session: ") + e.what();
  }
  return r;
}

}  // namespace prov
