#include "plugin/protocol/codec.hpp"

#include "plugin/protocol/json_codec.hpp"
#include "plugin/protocol/msgpack_codec.hpp"

namespace prov::plugin {

std::unique_ptr<Codec> make_codec(std::string_view name, CodecLimits limits) {
  if (name == "json") return std::make_unique<JsonCodec>(limits);
  if (name == "msgpack") return std::make_unique<MsgpackCodec>(limits);
  return nullptr;
}

}  // namespace prov::plugin
