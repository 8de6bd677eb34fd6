#include "core/graph/id_index.hpp"

#include <functional>
#include <stdexcept>

namespace prov {

namespace {

size_t capacity_for(size_t ids) {
  size_t capacity = 16;
  while (capacity < 2 * ids) capacity *= 2;
  return capacity;
}

uint64_t hash_of(std::string_view id) { return std::hash<std::string_view>{}(id); }

}  // namespace

IdIndex::IdIndex(size_t expected) : slots_(capacity_for(expected)), starts_{0} {
  starts_.reserve(expected + 1);
  indices_.reserve(expected);
}

size_t IdIndex::probe(std::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t at = hash & mask;; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (s.entry == 0 || (s.tag == tag && id_of(s.entry - 1) == id)) return at;
  }
}

size_t IdIndex::insert(std::string_view id, size_t index) {
  if (index >= UINT32_MAX || ids_.size() + id.size() >= UINT32_MAX)
    throw std::length_error("IdIndex: too many operations");
  if (2 * (size() + 1) > slots_.size()) grow();
  const uint64_t hash = hash_of(id);
  Slot& s = slots_[probe(id, hash)];
  if (s.entry != 0) return indices_[s.entry - 1];
  ids_.append(id);
  starts_.push_back(static_cast<uint32_t>(ids_.size()));
  indices_.push_back(static_cast<uint32_t>(index));
  s.entry = static_cast<uint32_t>(indices_.size());
  s.tag = static_cast<uint32_t>(hash >> 32);
  return index;
}

size_t IdIndex::find(std::string_view id) const {
  const Slot& s = slots_[probe(id, hash_of(id))];
  return s.entry == 0 ? npos : indices_[s.entry - 1];
}

void IdIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.entry == 0) continue;
    size_t at = hash_of(id_of(s.entry - 1)) & mask;
    while (slots_[at].entry != 0) at = (at + 1) & mask;
    slots_[at] = s;
  }
}

}  // namespace prov
