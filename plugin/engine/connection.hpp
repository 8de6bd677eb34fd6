#pragma once
/// The outgoing half of the link to the engine: encodes messages and writes each one whole,
/// from any thread.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "plugin/protocol/codec.hpp"
#include "plugin/protocol/value_wire.hpp"
#include "plugin/protocol/value_writer.hpp"

namespace prov::plugin {

class Connection {
 public:
  Connection(std::unique_ptr<Codec> codec, int out_fd)
      : codec_(std::move(codec)), encoding_(codec_->name() == "json" ? Encoding::json : Encoding::msgpack), fd_(out_fd) {}

  /// Writes the encoding announcement ("\x07msgpack" or "\x04json"); first thing on the wire.
  void send_encoding();
  /// Encodes and writes one message atomically with respect to other senders. Throws
  /// std::system_error when the engine is gone (the write fails).
  void send(const Wire& message);

  /// The hot path: a call's Value answer, and one list-stream item, encoded directly.
  void send_value_response(uint64_t call_id, const Value& v);
  /// Appends one list-stream Data message to `out` (for send_bytes later).
  void encode_list_data(uint64_t stream_id, const Value& v, std::string& out) const;
  /// Writes messages encoded earlier, as one write.
  void send_bytes(const std::string& bytes);
  void send_list_data(uint64_t stream_id, const Value& v);

  Codec& codec() { return *codec_; }
  /// Value shapes the engine expects; set once its Hello is read.
  Dialect dialect() const { return Dialect{text_shapes_.load()}; }
  void set_dialect(Dialect d) { text_shapes_ = d.text_ranges_and_cell_paths; }

 private:
  void write_all(const std::string& bytes);

  std::unique_ptr<Codec> codec_;
  Encoding encoding_;  ///< codec_'s encoding, for the direct writers
  int fd_;
  std::mutex write_mutex_;  ///< one message's bytes are never interleaved with another's
  std::atomic<bool> text_shapes_{true};
};

}  // namespace prov::plugin
