#include "core/support/ttl_cache.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace prov;
using namespace std::chrono_literals;

namespace {
struct FakeClock {
  TtlCache::Clock::time_point t{};
  std::function<TtlCache::Clock::time_point()> fn() {
    return [this] { return t; };
  }
};
constexpr Duration kTenSeconds{10'000'000'000};
}  // namespace

TEST_CASE("ttl cache: entries live for their ttl, then expire", "[ttl_cache]") {
  FakeClock clock;
  TtlCache cache(kTenSeconds, clock.fn());
  cache.put("a", Datum(int64_t{1}));
  clock.t += 9s;
  REQUIRE(cache.get("a") == Datum(int64_t{1}));
  clock.t += 1s;
  REQUIRE_FALSE(cache.get("a").has_value());
  CacheStats s = cache.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 1);
  CHECK(s.expired == 1);
  CHECK(s.entries == 0);
  CHECK(s.stores == 1);
}

TEST_CASE("ttl cache: per-entry ttl, zero stores nothing", "[ttl_cache]") {
  FakeClock clock;
  TtlCache cache(kTenSeconds, clock.fn());
  cache.put("short", Datum("x"), Duration{1'000'000'000});
  cache.put("never", Datum("y"), Duration{0});
  cache.put("long", Datum("z"));
  clock.t += 2s;
  CHECK_FALSE(cache.get("short").has_value());
  CHECK_FALSE(cache.get("never").has_value());
  CHECK(cache.get("long") == Datum("z"));
  CacheStats s = cache.stats();
  CHECK(s.stores == 2);
  CHECK(s.live == 1);
}

TEST_CASE("ttl cache: get_or_compute computes once while live; errors store nothing", "[ttl_cache]") {
  FakeClock clock;
  TtlCache cache(kTenSeconds, clock.fn());
  int calls = 0;
  auto compute = [&] { return Datum(static_cast<int64_t>(++calls)); };
  CHECK(cache.get_or_compute("k", compute) == Datum(int64_t{1}));
  CHECK(cache.get_or_compute("k", compute) == Datum(int64_t{1}));
  clock.t += 11s;
  CHECK(cache.get_or_compute("k", compute) == Datum(int64_t{2}));
  CHECK(calls == 2);
  REQUIRE_THROWS_AS(cache.get_or_compute("bad", []() -> Datum { throw std::runtime_error("no"); }),
                    std::runtime_error);
  CHECK_FALSE(cache.get("bad").has_value());
}

TEST_CASE("ttl cache: clear drops entries and counters", "[ttl_cache]") {
  TtlCache cache(kTenSeconds);
  cache.put("a", Datum(true));
  cache.put("b", Datum(false));
  (void)cache.get("a");
  CHECK(cache.clear() == 2);
  CacheStats s = cache.stats();
  CHECK(s.entries == 0);
  CHECK(s.hits == 0);
  CHECK(s.stores == 0);
  CHECK(s.default_ttl == kTenSeconds);
}

TEST_CASE("ttl cache: live_until is the last live entry's expiry", "[ttl_cache]") {
  FakeClock clock;
  TtlCache cache(kTenSeconds, clock.fn());
  CHECK_FALSE(cache.live_until().has_value());
  cache.put("short", Datum("x"), Duration{1'000'000'000});
  cache.put("long", Datum("z"));
  CHECK(cache.live_until() == clock.t + 10s);
  clock.t += 10s;
  CHECK_FALSE(cache.live_until().has_value());
}
