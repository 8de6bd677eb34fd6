#pragma once
/// Layering configuration records: records merge deeply, everything else replaces, and every
/// leaf remembers which layer set it last.

#include <map>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/key_path.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// The layer a value came from.
struct Origin {
  std::string layer;   ///< builtin, defaults, … (ConfigLeaf::layer)
  std::string source;  ///< a file's path, "built-in", … (ConfigLeaf::source)
};

/// The origin of every leaf of a merged record, by path. Holds exactly the current leaves:
/// values that are not records, and empty records.
using Provenance = std::map<KeyPath, Origin>;

/// Merges the record `layer` into the record `merged`: where both hold a record at the same
/// key the two merge, anywhere else `layer`'s value replaces (lists included) and the leaves
/// it replaces are forgotten. New keys go after the existing ones.
void merge_layer(Datum& merged, const Datum& layer, const Origin& origin, Provenance& provenance);

/// The leaves of `merged` depth first in record order, each with its value in `merged` (which
/// may since have been interpolated) and its origin.
std::vector<ConfigLeaf> collect_leaves(const Datum& merged, const Provenance& provenance);

}  // namespace prov
