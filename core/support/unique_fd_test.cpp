#include "core/support/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <utility>

using namespace prov;

namespace {
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }
int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
}  // namespace

TEST_CASE("a UniqueFd closes what it holds when it goes away", "[unique_fd]") {
  int raw = -1;
  {
    UniqueFd fd(open_null());
    raw = fd.get();
    REQUIRE(raw >= 0);
    CHECK(static_cast<bool>(fd));
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
  CHECK_FALSE(static_cast<bool>(UniqueFd()));
}

TEST_CASE("a UniqueFd moves its descriptor, releases it and resets to another", "[unique_fd]") {
  UniqueFd a(open_null());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  CHECK(a.get() == -1);
  CHECK(b.get() == raw);

  UniqueFd c(open_null());
  const int other = c.get();
  c = std::move(b);  // closes what c held
  CHECK(c.get() == raw);
  CHECK_FALSE(is_open(other));

  const int second = open_null();
  c.reset(second);  // closes raw, holds second
  CHECK_FALSE(is_open(raw));
  CHECK(c.get() == second);

  const int released = c.release();
  CHECK(c.get() == -1);
  CHECK(is_open(released));  // no longer closed by c
  ::close(released);
}
