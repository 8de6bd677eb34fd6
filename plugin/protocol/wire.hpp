#pragma once
/// The protocol's data model before encoding: maps, arrays, strings, numbers, bytes. Both
/// encodings (JSON and MessagePack) read and write this one tree; messages and values convert
/// to and from it once.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace prov::plugin {

/// An insertion-ordered JSON-like tree with a binary type (MessagePack `bin`).
using Wire = nlohmann::ordered_json;

/// Input that does not follow the protocol: malformed bytes, wrong types, unknown variants.
/// The plugin cannot continue after one; the message says what was wrong and where, `code`
/// classifies it (`provisioning::protocol::malformed`, or `provisioning::limits::*` for a
/// message over the limits).
class ProtocolError : public std::runtime_error {
 public:
  explicit ProtocolError(const std::string& what, std::string code = "provisioning::protocol::malformed")
      : std::runtime_error(what), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

/// Field `key` of map `w`; throws ProtocolError naming `what` when absent or `w` is no map.
const Wire& wire_field(const Wire& w, const char* key, const char* what);
/// The single (variant name, body) of a serde enum map `{"Name": body}`; throws otherwise.
std::pair<std::string, const Wire*> wire_variant(const Wire& w, const char* what);
/// An integer of any width; throws when not an integer.
int64_t wire_int(const Wire& w, const char* what);
uint64_t wire_uint(const Wire& w, const char* what);
const std::string& wire_string(const Wire& w, const char* what);
bool wire_bool(const Wire& w, const char* what);
double wire_float(const Wire& w, const char* what);

}  // namespace prov::plugin
