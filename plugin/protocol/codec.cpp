#include "plugin/protocol/codec.hpp"

#include <algorithm>

#include "core/support/limits.hpp"

#include "plugin/protocol/json_codec.hpp"
#include "plugin/protocol/msgpack_codec.hpp"

namespace prov::plugin {

CodecLimits codec_limits(size_t message_size, size_t value_depth) {
  CodecLimits l;
  l.max_message_bytes = message_size;
  l.max_depth = std::min<size_t>(4 * value_depth + 32, 1024);
  return l;
}

std::string message_too_large(std::string_view codec, const CodecLimits& limits) {
  return std::string(codec) + ": a message is larger than " + std::to_string(limits.max_message_bytes) +
         " bytes, the limit (limits.message_size); it was not read. " + prov::limit_help("message_size");
}

std::string message_too_deep(std::string_view codec, const CodecLimits& limits) {
  return std::string(codec) + ": a message nests deeper than " + std::to_string(limits.max_depth) +
         " levels, the limit (limits.depth, about a third of that in lists and records); it was not read. "
         "Raise it with the environment variable PROVISIONING_LIMITS_DEPTH of the Nu that starts the plugin";
}

std::optional<PluginInput> Codec::next_input() {
  std::optional<Wire> w = next();
  if (!w) return std::nullopt;
  return parse_plugin_input(*w);
}

std::unique_ptr<Codec> make_codec(std::string_view name, CodecLimits limits) {
  if (name == "json") return std::make_unique<JsonCodec>(limits);
  if (name == "msgpack") return std::make_unique<MsgpackCodec>(limits);
  return nullptr;
}

}  // namespace prov::plugin
