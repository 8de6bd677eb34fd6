#include "service/token.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/state/file_io.hpp"
#include "core/support/error.hpp"

namespace prov::service {

namespace {

std::string random_token() {
  unsigned char bytes[32];
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  size_t got = 0;
  while (fd && got < sizeof bytes) {
    const ssize_t n = ::read(fd.get(), bytes + got, sizeof bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < sizeof bytes)
    throw ResourceError("provisioning::service::token", "cannot read random bytes for the service token");
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char b : bytes) {
    t += hex[b >> 4];
    t += hex[b & 15];
  }
  return t;
}

}  // namespace

std::string file_token(const SafeDir& dir) {
  if (std::optional<std::string> text = dir.read_file("token")) {
    std::string t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (t.size() >= 16) return t;
  }
  return rotate_token(dir);
}

std::string rotate_token(const SafeDir& dir) {
  std::string t = random_token();
  dir.write_file_atomic("token", t + "\n", 0600);
  return t;
}

bool authorized(std::string_view authorization, const std::string& token) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() != scheme.size() + token.size() || authorization.substr(0, scheme.size()) != scheme)
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(authorization[scheme.size() + i] ^ token[i]);
  return diff == 0;
}

}  // namespace prov::service
