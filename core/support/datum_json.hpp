#pragma once
/// Datum <-> JSON without loss: what JSON can say is plain JSON (key order kept), the rest is a
/// single-key object tagged with a `$` key. State files, event logs and anything else the core
/// writes as JSON go through here, so a value reads back exactly as it was written.

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/support/datum.hpp"
#include "core/support/utf8.hpp"

namespace prov {

/// The JSON tree of `d`: null, bool, int, float, string, list and record as plain JSON;
/// otherwise a tagged object:
///   {"$date": "<rfc3339>"}   {"$duration": <nanos>}   {"$float": "nan" | "inf" | "-inf"}
///   {"$bytes": "<hex>"}      text (a string, a date's text or a key) that is not valid UTF-8
///   {"$record": [[key, value], …]}  a record with one key starting with `$` (it would read
///                                   back as a tag) or with a key that is not valid UTF-8.
nlohmann::ordered_json datum_to_json(const Datum& d);

/// The Datum of a JSON tree: datum_from_json(datum_to_json(x)) == x for every x (NaN aside,
/// which is never equal to itself). A single-key object whose key is an unknown `$` tag is a
/// plain record. Throws ResourceError `provisioning::json::invalid` for a malformed tag or an
/// integer beyond int64.
Datum datum_from_json(const nlohmann::ordered_json& j);

/// `d` as compact JSON text on one line: it never contains a raw newline.
std::string encode_json(const Datum& d);

/// The Datum of JSON text written by encode_json() (or any JSON). Throws ResourceError
/// `provisioning::json::invalid` saying where the text is not JSON.
Datum decode_json(std::string_view text);

/// Plain JSON text (RFC 8259) as a Datum, fast: key order kept, a key repeated in one object
/// keeps its first place and its last value, integers that fit int64 as ints, other numbers as
/// floats, no `$` tags read. nullopt for anything it does not take (a syntax error, text that
/// is not UTF-8, a byte order mark, more than `max_depth` nested lists and records, an integer
/// of 19 digits or more, a float out of range), so that the caller parses the text again with a
/// parser that explains the problem or takes the unusual case.
std::optional<Datum> read_plain_json(std::string_view text, size_t max_depth);

/// Where read_plain_json hands the members of one list as it reads them: the list under `key`
/// of the top-level record. `expect` (when set) first gets how many members the list holds.
struct PlainJsonItems {
  std::string_view key;
  std::function<void(size_t count)> expect;
  std::function<void(Datum&& item)> each;
};
/// read_plain_json that gives each member of the list `items` names to `items.each` as soon as
/// it is read, instead of keeping it: in the result that list is empty, and a large document
/// is never held whole. `depth` (when given) receives how deep the document nests (1 for a
/// top-level record of scalars). When it returns nullopt, `each` may already have had some
/// members: the caller starts over with another parser.
std::optional<Datum> read_plain_json(std::string_view text, size_t max_depth, const PlainJsonItems& items,
                                     size_t* depth = nullptr);


}  // namespace prov
