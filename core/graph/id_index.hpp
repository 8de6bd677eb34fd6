#pragma once
/// Operation ids to their positions: the lookup behind every `depends_on`. A flat table of
/// 8-byte slots over the ids packed side by side, because resolving a million dependencies is
/// much of the work of reading a large workflow, and that work is cache misses: the smaller
/// the table, the more of it stays in cache.

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
  size_t size() const { return indices_.size(); }

 private:
  struct Slot {
    uint32_t entry = 0;  ///< the id's entry + 1; 0 marks an empty slot
    uint32_t tag = 0;    ///< high bits of the id's hash
  };
  /// The slot holding `id`, or the empty slot where it would go.
  size_t probe(std::string_view id, uint64_t hash) const;
  std::string_view id_of(uint32_t entry) const {
    return std::string_view(ids_).substr(starts_[entry], starts_[entry + 1] - starts_[entry]);
  }
  void grow();

  std::vector<Slot> slots_;        ///< size a power of two, at most half full
  std::string ids_;                ///< every distinct id, back to back, in insertion order
  std::vector<uint32_t> starts_;   ///< entry e's id is ids_[starts_[e], starts_[e + 1])
  std::vector<uint32_t> indices_;  ///< entry e's index
};

}  // namespace prov
