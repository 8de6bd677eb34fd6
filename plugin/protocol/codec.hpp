#pragma once
/// An encoding of the plugin protocol: turns Wire trees into bytes and a byte stream back into
/// whole messages, whatever way the bytes were split across reads.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/protocol/messages.hpp"
#include "plugin/protocol/wire.hpp"

namespace prov::plugin {

/// Limits that keep hostile or broken input from exhausting memory or the stack.
struct CodecLimits {
  size_t max_message_bytes = 256u << 20;  ///< one message, encoded
  size_t max_depth = 256;                 ///< nesting of maps and arrays
};

/// The codec limits for messages of at most `message_size` bytes whose values nest lists and
/// records `value_depth` levels deep, with room to spare: each level of a Nu value is three on
/// the wire, and the message's envelope and leaf values add more, so a value a little over the
/// limit still arrives and gets its labeled error (at most 1024 levels, to keep the stack small).
CodecLimits codec_limits(size_t message_size, size_t value_depth);

/// The ProtocolError messages for a message over the limits, naming the setting to raise.
std::string message_too_large(std::string_view codec, const CodecLimits& limits);
std::string message_too_deep(std::string_view codec, const CodecLimits& limits);

class Codec {
 public:
  virtual ~Codec() = default;
  /// "json" or "msgpack", as announced to the engine.
  virtual std::string_view name() const = 0;
  /// Appends the encoding of one message to `out`.
  virtual void encode(const Wire& message, std::string& out) const = 0;
  /// Adds received bytes; whole messages then come out of next().
  virtual void feed(std::string_view bytes) = 0;
  /// The next whole message, or nullopt when more bytes are needed. Throws ProtocolError on
  /// malformed input or a message over the limits.
  virtual std::optional<Wire> next() = 0;
  /// The next whole message read into a PluginInput (parse_plugin_input of next(), unless the
  /// encoding reads it more directly), or nullopt when more bytes are needed. Throws
  /// ProtocolError as next() and parse_plugin_input do.
  virtual std::optional<PluginInput> next_input();
  /// True when bytes of an unfinished message are buffered (a truncated frame at end of input).
  virtual bool has_partial() const = 0;
};

/// The codec named "json" or "msgpack"; nullptr for any other name.
std::unique_ptr<Codec> make_codec(std::string_view name, CodecLimits limits = {});

}  // namespace prov::plugin
