// prov_loopback_server PORT: listens on 127.0.0.1:PORT and answers each connection with one
// line, "pong <pid>\n", then closes it; a client that sends an HTTP request first gets that line
// as the body of an HTTP/1.0 200 answer. A stand-in server for the `local` provider's tests and
// the end-to-end suites. Runs until a signal ends it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: prov_loopback_server PORT\n");
    return 2;
  }
  char* end = nullptr;
  const long port = std::strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
    std::fprintf(stderr, "prov_loopback_server: '%s' is not a port (1..65535)\n", argv[1]);
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("prov_loopback_server: socket");
    return 1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    std::fprintf(stderr, "prov_loopback_server: cannot listen on 127.0.0.1:%ld: %s\n", port, std::strerror(errno));
    return 1;
  }
  std::printf("listening on 127.0.0.1:%ld\n", port);
  std::fflush(stdout);
  const std::string reply = "pong " + std::to_string(::getpid()) + "\n";
  while (true) {
    const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::perror("prov_loopback_server: accept");
      return 1;
    }
    // A client that speaks first with an HTTP request (Nu's `http get`) gets an HTTP answer
    // with the same line as its body; one that only listens gets the bare line.
    std::string request;
    pollfd p{c, POLLIN, 0};
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192 &&
           ::poll(&p, 1, request.empty() ? 200 : 1000) > 0) {
      char buf[1024];
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    const bool http = request.find(" HTTP/1.") != std::string::npos;
    const std::string answer =
        http ? "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(reply.size()) +
                   "\r\nConnection: close\r\n\r\n" + reply
             : reply;
    size_t done = 0;
    while (done < answer.size()) {
      const ssize_t n = ::write(c, answer.data() + done, answer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(c);
  }
}
