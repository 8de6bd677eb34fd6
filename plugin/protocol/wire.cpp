#include "plugin/protocol/wire.hpp"

namespace prov::plugin {

namespace {
[[noreturn]] void fail(const char* what, const std::string& problem) {
  throw ProtocolError(std::string(what) + ": " + problem);
}
}  // namespace

const Wire& wire_field(const Wire& w, const char* key, const char* what) {
  if (!w.is_object()) fail(what, std::string("expected a map with field '") + key + "', got " + w.type_name());
  auto it = w.find(key);
  if (it == w.end()) fail(what, std::string("missing field '") + key + "'");
  return *it;
}

std::pair<std::string, const Wire*> wire_variant(const Wire& w, const char* what) {
  if (w.is_string()) return {w.get_ref<const std::string&>(), nullptr};
  if (!w.is_object() || w.size() != 1)
    fail(what, std::string("expected a variant (a string or a one-entry map), got ") + w.type_name());
  auto it = w.begin();
  return {it.key(), &it.value()};
}

int64_t wire_int(const Wire& w, const char* what) {
  if (w.is_number_unsigned()) {
    auto u = w.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) fail(what, "integer out of range");
    return static_cast<int64_t>(u);
  }
  if (!w.is_number_integer()) fail(what, std::string("expected an integer, got ") + w.type_name());
  return w.get<int64_t>();
}

uint64_t wire_uint(const Wire& w, const char* what) {
  if (w.is_number_unsigned()) return w.get<uint64_t>();
  if (!w.is_number_integer() || w.get<int64_t>() < 0)
    fail(what, std::string("expected an unsigned integer, got ") + w.type_name());
  return static_cast<uint64_t>(w.get<int64_t>());
}

const std::string& wire_string(const Wire& w, const char* what) {
  if (!w.is_string()) fail(what, std::string("expected a string, got ") + w.type_name());
  return w.get_ref<const std::string&>();
}

bool wire_bool(const Wire& w, const char* what) {
  if (!w.is_boolean()) fail(what, std::string("expected a boolean, got ") + w.type_name());
  return w.get<bool>();
}

double wire_float(const Wire& w, const char* what) {
  if (!w.is_number()) fail(what, std::string("expected a number, got ") + w.type_name());
  return w.get<double>();
}

}  // namespace prov::plugin
