// Output streams' flow control: at most `window` items unacknowledged; once full, the producer
// resumes when a quarter of the window is free; a Drop or `stop` ends the wait.

#include "plugin/engine/streams.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

using namespace prov::plugin;
using namespace std::chrono_literals;

namespace {

/// Fills the window of `s` (`window` items sent, none acknowledged).
void fill(OutputStream& s, size_t window) {
  for (size_t i = 0; i < window; ++i) {
    REQUIRE(s.wait_for_credit(nullptr));
    s.sent();
  }
}

}  // namespace

TEST_CASE("a full window waits until a quarter of it is acknowledged", "[streams]") {
  OutputStream s(8);
  fill(s, 8);
  auto credit = std::async(std::launch::async, [&] { return s.wait_for_credit(nullptr); });
  CHECK(credit.wait_for(100ms) == std::future_status::timeout);  // full: it waits
  s.ack();
  CHECK(credit.wait_for(150ms) == std::future_status::timeout);  // 7 of 8 still out
  s.ack();
  REQUIRE(credit.wait_for(2s) == std::future_status::ready);  // 6 out: a quarter free
  CHECK(credit.get());
  // Below the mark it sends without waiting until the window is full again.
  s.sent();
  CHECK(s.wait_for_credit(nullptr));
  s.sent();
  auto again = std::async(std::launch::async, [&] { return s.wait_for_credit(nullptr); });
  CHECK(again.wait_for(150ms) == std::future_status::timeout);
  s.drop();
  REQUIRE(again.wait_for(2s) == std::future_status::ready);
  CHECK_FALSE(again.get());
}

TEST_CASE("small windows resume after a single Ack", "[streams]") {
  OutputStream s(4);
  fill(s, 4);
  auto credit = std::async(std::launch::async, [&] { return s.wait_for_credit(nullptr); });
  CHECK(credit.wait_for(100ms) == std::future_status::timeout);
  s.ack();
  REQUIRE(credit.wait_for(2s) == std::future_status::ready);
  CHECK(credit.get());
}

TEST_CASE("a stop condition ends the wait for credit", "[streams]") {
  OutputStream s(1);
  fill(s, 1);
  std::atomic<bool> stop{false};
  auto credit = std::async(std::launch::async, [&] { return s.wait_for_credit([&] { return stop.load(); }); });
  CHECK(credit.wait_for(100ms) == std::future_status::timeout);
  stop = true;
  s.poke();
  REQUIRE(credit.wait_for(2s) == std::future_status::ready);
  CHECK_FALSE(credit.get());
}
