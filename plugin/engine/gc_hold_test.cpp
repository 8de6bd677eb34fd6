#include "plugin/engine/gc_hold.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

using namespace prov::plugin;
using namespace std::chrono_literals;

namespace {

/// What the hold sent, in order; wait() blocks until `n` options were sent.
struct Sent {
  std::mutex m;
  std::condition_variable cv;
  std::vector<bool> options;
  void operator()(bool disabled) {
    std::lock_guard l(m);
    options.push_back(disabled);
    cv.notify_all();
  }
  std::vector<bool> wait(size_t n) {
    std::unique_lock l(m);
    cv.wait(l, [&] { return options.size() >= n; });
    return options;
  }
  std::vector<bool> now() {
    std::lock_guard l(m);
    return options;
  }
};

}  // namespace

TEST_CASE("GcHold sends nothing while no source holds state", "[gc_hold]") {
  Sent sent;
  GcHold hold([&](bool d) { sent(d); });
  hold.add_source([] { return std::optional<GcHold::Clock::time_point>(); });
  hold.add_source([] { return std::optional(GcHold::Clock::now() - 1s); });  // already expired
  hold.refresh();
  CHECK_FALSE(hold.held());
  CHECK(sent.now().empty());
}

TEST_CASE("GcHold disables GC once while state lives and enables it when the state expires", "[gc_hold]") {
  Sent sent;
  std::atomic<int64_t> until_ms{0};
  const auto base = GcHold::Clock::now();
  GcHold hold([&](bool d) { sent(d); });
  hold.add_source([&]() -> std::optional<GcHold::Clock::time_point> {
    if (until_ms.load() == 0) return std::nullopt;
    return base + std::chrono::milliseconds(until_ms.load());
  });
  until_ms = (GcHold::Clock::now() - base) / 1ms + 50;
  hold.refresh();
  CHECK(hold.held());
  hold.refresh();  // still held: nothing more is sent
  CHECK(sent.now() == std::vector<bool>{true});
  // The state is renewed before the first deadline: the hold lasts until the new one.
  until_ms = (GcHold::Clock::now() - base) / 1ms + 150;
  CHECK(sent.wait(2) == std::vector<bool>{true, false});
  CHECK(GcHold::Clock::now() >= base + std::chrono::milliseconds(until_ms.load()));
  CHECK_FALSE(hold.held());
  // New state holds it again.
  until_ms = (GcHold::Clock::now() - base) / 1ms + 30;
  hold.refresh();
  CHECK(sent.wait(4) == std::vector<bool>{true, false, true, false});
  // State dropped before its deadline (`prov cache clear`): the next refresh lets go at once.
  until_ms = (GcHold::Clock::now() - base) / 1ms + 60'000;
  hold.refresh();
  until_ms = 0;
  hold.refresh();
  CHECK(sent.now() == std::vector<bool>{true, false, true, false, true, false});
  CHECK_FALSE(hold.held());
}
