#include "core/graph/id_index.hpp"

#include <algorithm>
#include <cstring>
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

IdIndex::IdIndex(size_t expected) : slots_(capacity_for(expected)) {}

size_t IdIndex::probe(std::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(hash >> 32);
  const size_t head = std::min(id.size(), kHead);
  for (size_t at = hash & mask;; at = (at + 1) & mask) {
    const Slot& s = slots_[at];
    if (s.index == 0) return at;
    if (s.tag == tag && s.length == id.size() &&
        (head == 0 || std::memcmp(s.head, id.data(), head) == 0) &&
        (id.size() <= kHead ||
         std::string_view(tail_).substr(s.offset, s.length - kHead) == id.substr(kHead)))
      return at;
  }
}

size_t IdIndex::insert(std::string_view id, size_t index) {
  if (index >= UINT32_MAX || id.size() >= UINT32_MAX || tail_.size() + id.size() >= UINT32_MAX)
    throw std::length_error("IdIndex: too many operations");
  if (2 * (size_ + 1) > slots_.size()) grow();
  const uint64_t hash = hash_of(id);
  Slot& s = slots_[probe(id, hash)];
  if (s.index != 0) return s.index - 1;
  s.index = static_cast<uint32_t>(index + 1);
  s.length = static_cast<uint32_t>(id.size());
  s.tag = static_cast<uint32_t>(hash >> 32);
  s.offset = static_cast<uint32_t>(tail_.size());
  if (!id.empty()) std::memcpy(s.head, id.data(), std::min(id.size(), kHead));
  if (id.size() > kHead) tail_.append(id.substr(kHead));
  ++size_;
  return index;
}

size_t IdIndex::find(std::string_view id) const {
  const Slot& s = slots_[probe(id, hash_of(id))];
  return s.index == 0 ? npos : s.index - 1;
}

void IdIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index == 0) continue;
    // Rebuild the id to rehash it; growth is rare (the constructor sizes the table).
    std::string id(s.head, std::min<size_t>(s.length, kHead));
    if (s.length > kHead) id.append(tail_, s.offset, s.length - kHead);
    size_t at = hash_of(id) & mask;
    while (slots_[at].index != 0) at = (at + 1) & mask;
    slots_[at] = s;
  }
}

}  // namespace prov
