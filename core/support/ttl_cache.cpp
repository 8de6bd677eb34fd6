#include "core/support/ttl_cache.hpp"

namespace prov {

Datum CacheStats::to_datum() const {
  return Datum(DatumRecord{{"entries", Datum(static_cast<int64_t>(entries))},
                           {"live", Datum(static_cast<int64_t>(live))},
                           {"hits", Datum(static_cast<int64_t>(hits))},
                           {"misses", Datum(static_cast<int64_t>(misses))},
                           {"expired", Datum(static_cast<int64_t>(expired))},
                           {"stores", Datum(static_cast<int64_t>(stores))},
                           {"default_ttl", Datum(default_ttl)}});
}

TtlCache::TtlCache(Duration default_ttl, std::function<Clock::time_point()> now)
    : default_ttl_(default_ttl), now_(std::move(now)) {}

std::optional<Datum> TtlCache::get(const std::string& key) {
  std::lock_guard l(m_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++counts_.misses;
    return std::nullopt;
  }
  if (it->second.expires <= now_()) {
    entries_.erase(it);
    ++counts_.expired;
    ++counts_.misses;
    return std::nullopt;
  }
  ++counts_.hits;
  return it->second.value;
}

void TtlCache::put(const std::string& key, Datum value, std::optional<Duration> ttl) {
  const Duration t = ttl.value_or(default_ttl_);
  if (t.nanos <= 0) return;
  std::lock_guard l(m_);
  entries_[key] = Entry{std::move(value), now_() + std::chrono::nanoseconds(t.nanos)};
  ++counts_.stores;
}

Datum TtlCache::get_or_compute(const std::string& key, const std::function<Datum()>& compute,
                               std::optional<Duration> ttl) {
  if (auto hit = get(key)) return *hit;
  Datum value = compute();
  put(key, value, ttl);
  return value;
}

size_t TtlCache::clear() {
  std::lock_guard l(m_);
  const size_t n = entries_.size();
  entries_.clear();
  counts_ = CacheStats{};
  return n;
}

CacheStats TtlCache::stats() const {
  std::lock_guard l(m_);
  CacheStats s = counts_;
  s.default_ttl = default_ttl_;
  s.entries = entries_.size();
  const auto now = now_();
  for (const auto& [k, e] : entries_)
    if (e.expires > now) ++s.live;
  return s;
}

std::optional<TtlCache::Clock::time_point> TtlCache::live_until() const {
  std::lock_guard l(m_);
  const auto now = now_();
  std::optional<Clock::time_point> latest;
  for (const auto& [k, e] : entries_)
    if (e.expires > now && (!latest || e.expires > *latest)) latest = e.expires;
  return latest;
}

}  // namespace prov
