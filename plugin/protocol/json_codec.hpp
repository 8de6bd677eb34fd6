#pragma once
/// The JSON encoding: one JSON document per message, newline-terminated on output; on input any
/// whitespace between documents, and documents split across reads or several in one read.

#include "plugin/protocol/codec.hpp"

namespace prov::plugin {

class JsonCodec : public Codec {
 public:
  explicit JsonCodec(CodecLimits limits = {}) : limits_(limits) {}
  std::string_view name() const override { return "json"; }
  void encode(const Wire& message, std::string& out) const override;
  void feed(std::string_view bytes) override;
  std::optional<Wire> next() override;
  /// Reads the hot messages straight from the text (direct_input.hpp); the others, and anything
  /// it is not sure of, through next()'s Wire tree.
  std::optional<PluginInput> next_input() override;
  bool has_partial() const override;

 private:
  /// The end of the next whole message in buf_ (which then starts with it), or nullopt.
  std::optional<size_t> frame();
  Wire parse_framed(size_t end) const;
  void drop_framed(size_t end);

  CodecLimits limits_;
  std::string buf_;     ///< received bytes not yet returned as messages
  size_t scan_ = 0;     ///< how far buf_ has been scanned for the current message's end
  size_t depth_ = 0;    ///< nesting depth at scan_
  bool in_string_ = false;
  bool escaped_ = false;
  bool started_ = false;  ///< the current message's first byte has been seen
};

/// Binary values travel as arrays of byte numbers in JSON; this converts them for encoding.
Wire json_compatible(const Wire& w);

}  // namespace prov::plugin
