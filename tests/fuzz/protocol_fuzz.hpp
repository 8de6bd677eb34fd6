#pragma once
/// The body of the two protocol fuzz targets: bytes from the engine through a codec's framing
/// and decoding, then every whole message through parse_plugin_input, as PluginServer::serve
/// does. Only ProtocolError may come out (serve() dies cleanly on it; anything else would end
/// the plugin with std::terminate). Also checked: framing does not depend on how the bytes are
/// split across reads, a decoded message encodes to bytes that decode to it again, and the
/// codec's own PluginInput (next_input: msgpack reads hot messages straight from the bytes) is
/// what parse_plugin_input makes of the message.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/messages.hpp"

namespace prov::plugin::fuzz {

/// What a codec made of a byte stream: the whole messages, then whether it stopped on an error
/// or, without one, whether an unfinished message was left.
struct Decoded {
  std::vector<Wire> messages;
  bool failed = false;
  bool partial = false;
};

inline Decoded decode_in_chunks(std::string_view codec_name, std::string_view bytes, size_t chunk) {
  Decoded out;
  const std::unique_ptr<Codec> codec = make_codec(codec_name);
  try {
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      codec->feed(bytes.substr(at, chunk));
      while (std::optional<Wire> msg = codec->next()) out.messages.push_back(std::move(*msg));
    }
    out.partial = codec->has_partial();
  } catch (const ProtocolError&) {
    out.failed = true;
  }
  return out;
}

/// Equal, or equal once printed (NaN is not equal to itself).
inline bool same_wire(const Wire& a, const Wire& b) {
  return a == b || a.dump(-1, ' ', false, Wire::error_handler_t::replace) ==
                       b.dump(-1, ' ', false, Wire::error_handler_t::replace);
}

/// True when `w` holds a NaN anywhere (a NaN Value is not equal to itself).
inline bool has_nan(const Wire& w) {
  if (w.is_number_float()) return w.get<double>() != w.get<double>();
  if (w.is_structured())
    for (const auto& e : w)
      if (has_nan(e)) return true;
  return false;
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "protocol fuzz: %s\n", what);
  std::abort();
}

inline int fuzz_protocol(std::string_view codec_name, const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Decoded whole = decode_in_chunks(codec_name, bytes, bytes.size() + 1);
  const Decoded split = decode_in_chunks(codec_name, bytes, size <= 4096 ? 1 : 61);
  if (whole.failed != split.failed || whole.partial != split.partial || whole.messages.size() != split.messages.size())
    fail("the messages depend on how the input was split");
  for (size_t i = 0; i < whole.messages.size(); ++i)
    if (!same_wire(whole.messages[i], split.messages[i])) fail("a message depends on how the input was split");

  // The codec's PluginInput (straight from the bytes for msgpack's hot messages) must be what
  // parse_plugin_input makes of the message, or the same kind of error.
  const std::unique_ptr<Codec> direct = make_codec(codec_name);
  direct->feed(bytes);
  for (const Wire& msg : whole.messages) {
    std::optional<PluginInput> got, want;
    bool got_error = false, want_error = false;
    try {
      got = direct->next_input();
    } catch (const ProtocolError&) {
      got_error = true;
    }
    try {
      want = parse_plugin_input(msg);
    } catch (const ProtocolError&) {
      want_error = true;
    }
    if (got_error != want_error) fail("next_input and parse_plugin_input disagree on an error");
    if (got_error) break;
    if (!got || (!(*got == *want) && !has_nan(msg))) fail("next_input reads a message differently");
  }

  const std::unique_ptr<Codec> codec = make_codec(codec_name);
  for (const Wire& msg : whole.messages) {
    std::string encoded;
    codec->encode(msg, encoded);
    const Decoded again = decode_in_chunks(codec_name, encoded, encoded.size() + 1);
    if (again.failed || again.partial || again.messages.size() != 1 || !same_wire(again.messages[0], msg))
      fail("a decoded message does not survive encoding and decoding");
    try {
      parse_plugin_input(msg);
    } catch (const ProtocolError&) {
    }
  }
  return 0;
}

}  // namespace prov::plugin::fuzz
