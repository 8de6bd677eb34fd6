#include "core/config/merge.hpp"

#include <algorithm>
#include <unordered_map>

namespace prov {

namespace {

bool is_leaf(const Datum& d) { return !d.is_record() || d.record().empty(); }

/// Records `origin` for every leaf of `value`, which now sits at `path`.
void claim_leaves(const Datum& value, KeyPath& path, const Origin& origin,
                  Provenance& provenance) {
  if (is_leaf(value)) {
    provenance[path] = origin;
    return;
  }
  for (const auto& [key, child] : value.record()) {
    path.push_back(key);
    claim_leaves(child, path, origin, provenance);
    path.pop_back();
  }
}

/// Forgets `path` and every path below it.
void forget_subtree(const KeyPath& path, Provenance& provenance) {
  auto it = provenance.lower_bound(path);
  while (it != provenance.end() && it->first.size() >= path.size() &&
         std::equal(path.begin(), path.end(), it->first.begin()))
    it = provenance.erase(it);
}

void merge_record(Datum& base, const Datum& overlay, KeyPath& path, const Origin& origin,
                  Provenance& provenance) {
  // Large records are looked into through an index of their members, so that merging stays
  // linear (a table of 100,000 keys over another).
  std::unordered_map<std::string, size_t> index;
  const bool indexed = base.record().size() > 16 && overlay.record().size() > 16;
  if (indexed)
    for (size_t i = 0; i < base.record().size(); ++i) index.emplace(base.record()[i].first, i);
  for (const auto& [key, value] : overlay.record()) {
    path.push_back(key);
    Datum* existing = nullptr;
    if (indexed) {
      auto it = index.find(key);
      if (it != index.end()) existing = &base.record()[it->second].second;
    } else {
      existing = base.find(key);
    }
    if (!existing) {
      if (indexed) index.emplace(key, base.record().size());
      base.record().emplace_back(key, value);
      claim_leaves(value, path, origin, provenance);
    } else if (existing->is_record() && value.is_record()) {
      const bool was_empty = existing->record().empty();
      merge_record(*existing, value, path, origin, provenance);
      if (existing->record().empty())
        provenance[path] = origin;  // an empty record set again is set by this layer
      else if (was_empty)
        provenance.erase(path);  // no longer a leaf
    } else {
      forget_subtree(path, provenance);
      *existing = value;
      claim_leaves(value, path, origin, provenance);
    }
    path.pop_back();
  }
}

void collect(const Datum& value, KeyPath& path, const Provenance& provenance,
             std::vector<ConfigLeaf>& out) {
  auto it = provenance.find(path);
  if (it != provenance.end() || is_leaf(value)) {
    Origin origin = it != provenance.end() ? it->second : Origin{};
    out.push_back({render_key(path), value, origin.layer, origin.source});
    return;
  }
  for (const auto& [key, child] : value.record()) {
    path.push_back(key);
    collect(child, path, provenance, out);
    path.pop_back();
  }
}

}  // namespace

void merge_layer(Datum& merged, const Datum& layer, const Origin& origin, Provenance& provenance) {
  KeyPath path;
  merge_record(merged, layer, path, origin, provenance);
}

std::vector<ConfigLeaf> collect_leaves(const Datum& merged, const Provenance& provenance) {
  std::vector<ConfigLeaf> out;
  KeyPath path;
  if (!merged.is_record()) return out;
  for (const auto& [key, child] : merged.record()) {
    path.push_back(key);
    collect(child, path, provenance, out);
    path.pop_back();
  }
  return out;
}

}  // namespace prov
