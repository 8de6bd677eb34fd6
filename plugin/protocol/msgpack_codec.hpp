#pragma once
/// The MessagePack encoding: messages back to back with no separator, maps with named fields
/// (as Nushell's rmp-serde `write_named` produces), byte arrays as `bin`.

#include <cstdint>
#include <string>
#include <vector>

#include "plugin/protocol/codec.hpp"

namespace prov::plugin {

class MsgpackCodec : public Codec {
 public:
  explicit MsgpackCodec(CodecLimits limits = {});
  std::string_view name() const override { return "msgpack"; }
  void encode(const Wire& message, std::string& out) const override;
  void feed(std::string_view bytes) override;
  std::optional<Wire> next() override;
  /// Reads the hot messages (calls, stream items) straight from the bytes (direct_input.hpp);
  /// the others, and anything malformed, through next()'s Wire tree.
  std::optional<PluginInput> next_input() override;
  bool has_partial() const override;

 private:
  /// Moves scan_ over the message that starts at head_, from where it stopped last time; true
  /// when the message is whole. Only headers are read and nothing is allocated for what they
  /// announce, so a few bytes announcing a huge array cannot exhaust memory: msgpack-c's own
  /// streaming unpacker allocates an array's members as soon as it reads its header.
  bool scan_message();
  /// The Wire tree of the whole message scanned at buf_[head_, scan_).
  Wire unpack_scanned() const;

  CodecLimits limits_;
  std::string buf_;             ///< bytes received and not yet dropped
  size_t head_ = 0;             ///< where the next message starts in buf_
  size_t scan_ = 0;             ///< where the next item's header starts: head_ <= scan_
  std::vector<uint64_t> open_;  ///< members still due in each array and map open at scan_
  uint64_t due_ = 0;            ///< the sum of open_
};

}  // namespace prov::plugin
