#pragma once
/// Operation ids to their positions: the lookup behind every `depends_on`. A flat table with the
/// ids packed side by side, because resolving a million dependencies is most of the work of
/// reading a large workflow and a node-based map spends it in cache misses.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prov {

/// A set of distinct ids, each with the index it was first inserted with.
class IdIndex {
 public:
  static constexpr size_t npos = static_cast<size_t>(-1);

  /// An empty index sized for about `expected` ids (it grows past that).
  explicit IdIndex(size_t expected = 0);

  /// Adds `id` with `index` unless it is there already; returns the index `id` has now (the
  /// earlier one when it was there). `index` must be below 2^32 - 1.
  size_t insert(std::string_view id, size_t index);

  /// The index of `id`, or npos.
  size_t find(std::string_view id) const;

  /// How many distinct ids it holds.
  size_t size() const { return size_; }

 private:
  static constexpr size_t kHead = 16;
  struct Slot {
    uint32_t index = 0;   ///< the id's index + 1; 0 marks an empty slot
    uint32_t length = 0;  ///< of the id
    uint32_t tag = 0;     ///< high bits of the id's hash
    uint32_t offset = 0;  ///< where the id's bytes past the head are in tail_
    char head[kHead];     ///< the id's first bytes: short ids compare without another miss
  };
  /// The slot holding `id`, or the empty slot where it would go.
  size_t probe(std::string_view id, uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_;  ///< size a power of two, at most half full
  std::string tail_;         ///< the bytes past the head of long ids, back to back
  size_t size_ = 0;
};

}  // namespace prov
