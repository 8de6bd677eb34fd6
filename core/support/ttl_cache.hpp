#pragma once
/// A key → Datum cache whose entries expire after a time to live: remembers answers that are
/// slow to get and allowed to be a little old (whether a provider is available). Thread-safe.
/// Counts what it did, for `prov cache stats`.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/support/datum.hpp"

namespace prov {

/// What a cache did since it was made or last cleared.
struct CacheStats {
  size_t entries = 0;   ///< held now, expired or not
  size_t live = 0;      ///< held now and not expired
  uint64_t hits = 0;    ///< lookups answered from the cache
  uint64_t misses = 0;  ///< lookups that found nothing or an expired entry
  uint64_t expired = 0; ///< entries found expired (and dropped)
  uint64_t stores = 0;  ///< entries written
  Duration default_ttl;
  Datum to_datum() const;
};

class TtlCache {
 public:
  using Clock = std::chrono::steady_clock;
  /// `now` replaces the clock, for tests.
  explicit TtlCache(Duration default_ttl, std::function<Clock::time_point()> now = Clock::now);

  /// The live value under `key`; nullopt when absent or expired (an expired entry is dropped).
  std::optional<Datum> get(const std::string& key);
  /// Stores `value` under `key` for `ttl` (the default when nullopt). A ttl of 0 stores nothing.
  void put(const std::string& key, Datum value, std::optional<Duration> ttl = std::nullopt);
  /// The live value, else `compute()`'s, stored for `ttl`. `compute` runs without the lock held
  /// (two callers may compute the same key at once; the later store wins). Exceptions pass
  /// through and store nothing.
  Datum get_or_compute(const std::string& key, const std::function<Datum()>& compute,
                       std::optional<Duration> ttl = std::nullopt);
  /// Forgets every entry and resets the counters; returns how many entries were dropped.
  size_t clear();
  CacheStats stats() const;
  /// When the last live entry expires; nullopt when none is live.
  std::optional<Clock::time_point> live_until() const;

 private:
  struct Entry {
    Datum value;
    Clock::time_point expires;
  };
  mutable std::mutex m_;
  Duration default_ttl_;
  std::function<Clock::time_point()> now_;
  std::map<std::string, Entry> entries_;  ///< guarded by m_
  CacheStats counts_;                      ///< hits, misses, expired, stores; guarded by m_
};

}  // namespace prov
