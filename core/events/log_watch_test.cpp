#include "core/events/log_watch.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "core/support/cancel.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;

TEST_CASE("a log watch wakes on a write in a watched folder, not before", "[events][watch]") {
  TempDir dir;
  LogWatch watch;
  REQUIRE(watch.watch_dir(dir.path()));
  CHECK_FALSE(watch.wait(50ms));
  std::thread writer([&] {
    std::this_thread::sleep_for(100ms);
    std::ofstream(dir / "events.jsonl", std::ios::app) << "{}\n";
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK(watch.wait(10s));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  writer.join();
  // What woke it is consumed (the write and the close may come as two notifications): once
  // they are read, nothing new means no wake.
  for (int i = 0; i < 10 && watch.wait(50ms); ++i) {
  }
  CHECK_FALSE(watch.wait(50ms));
}

TEST_CASE("a log watch wakes when the watched process ends, and on a cancel token", "[events][watch]") {
  const pid_t child = ::fork();
  if (child == 0) {
    ::usleep(150'000);
    ::_exit(0);
  }
  LogWatch watch;
  REQUIRE(watch.watch_process(child));
  CHECK(watch.wait(10s));
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK_FALSE(watch.wait(50ms));  // ended processes wake once

  CancelToken cancel;
  CHECK_FALSE(watch.wait(20ms, {cancel.wake_fd()}));
  std::thread([&] {
    std::this_thread::sleep_for(50ms);
    cancel.cancel();
  }).join();
  CHECK(watch.wait(10s, {cancel.wake_fd()}));
  cancel.reset();
  CHECK_FALSE(watch.wait(20ms, {cancel.wake_fd()}));
}
