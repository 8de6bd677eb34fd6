#pragma once
/// The MessagePack encoding: messages back to back with no separator, maps with named fields
/// (as Nushell's rmp-serde `write_named` produces), byte arrays as `bin`.

#include <memory>

#include "plugin/protocol/codec.hpp"

namespace prov::plugin {

class MsgpackCodec : public Codec {
 public:
  explicit MsgpackCodec(CodecLimits limits = {});
  ~MsgpackCodec() override;
  std::string_view name() const override { return "msgpack"; }
  void encode(const Wire& message, std::string& out) const override;
  void feed(std::string_view bytes) override;
  std::optional<Wire> next() override;
  bool has_partial() const override;

 private:
  CodecLimits limits_;
  struct Unpacker;  ///< msgpack-c's streaming unpacker, kept out of this header
  std::unique_ptr<Unpacker> unpacker_;
  /// Bytes fed since the last whole message ended: msgpack-c keeps a half-read message in its
  /// own state, where nonparsed_size() no longer counts it.
  size_t unfinished_ = 0;
};

}  // namespace prov::plugin
