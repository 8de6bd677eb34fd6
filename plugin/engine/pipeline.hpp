#pragma once
/// Pipeline data as a command sees it: its input (nothing, a value, or a stream from the engine)
/// and its output (nothing, a value, or a list stream the plugin produces item by item).

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "core/support/limits.hpp"
#include "plugin/engine/streams.hpp"
#include "plugin/protocol/messages.hpp"

namespace prov::plugin {

class Connection;

/// A command's input. Reading a stream acknowledges each item; leaving a stream unread drops it.
class PipelineInput {
 public:
  PipelineInput(PipelineDataHeader header, std::shared_ptr<InputStream> stream, Connection* conn)
      : header_(std::move(header)), stream_(std::move(stream)), conn_(conn) {}
  PipelineInput(const PipelineInput&) = delete;
  PipelineInput& operator=(const PipelineInput&) = delete;
  ~PipelineInput();

  PipelineDataHeader::Kind kind() const { return header_.kind; }
  bool is_empty() const;
  /// Where the input came from; the call's head span when unknown.
  Span span() const { return header_.span; }
  /// The whole input as one value: Nothing when empty, the value itself, a List for a list
  /// stream, a String (or Binary) for a byte stream. Stream errors become LabeledErrorException;
  /// so does a list stream over `limits.stream_length` items or a byte stream over
  /// `limits.message_size` bytes, labeled at the input (the rest of the stream is dropped).
  Value collect(const prov::Limits& limits = prov::Limits::process());

 private:
  /// Runs `check`, turning a prov::LimitError into a labeled error at the input.
  void over_limit(const std::function<void()>& check) const;

  PipelineDataHeader header_;
  std::shared_ptr<InputStream> stream_;
  Connection* conn_;
  bool finished_ = false;  ///< the stream was read to its end (no Drop needed)
};

/// A command's output. A stream's `next` is pulled only when the consumer has room for more.
struct PipelineOutput {
  enum class Kind { Empty, Value, ListStream, ByteStream };
  Kind kind = Kind::Empty;
  prov::plugin::Value value;
  std::function<std::optional<prov::plugin::Value>()> next;
  Span span;
  /// The stream's items are ready at once (`next` never waits): they may be written several
  /// to a write. A stream that follows something live (events) must not set this, or items
  /// would wait in a buffer.
  bool ready_items = false;
  /// When set, becomes true once the consumer drops the stream: a `next` that waits for
  /// something live checks it to stop waiting.
  std::shared_ptr<std::atomic<bool>> dropped;
  /// ByteStream: the next chunk, nullopt at the end; its type ("String", "Binary", "Unknown")
  /// and the content type its metadata carries ("" for none).
  std::function<std::optional<std::string>()> next_bytes;
  std::string byte_type = "Unknown";
  std::string content_type;

  static PipelineOutput empty() { return {}; }
  static PipelineOutput of(prov::plugin::Value v) {
    PipelineOutput o;
    o.kind = Kind::Value;
    o.value = std::move(v);
    return o;
  }
  static PipelineOutput stream(std::function<std::optional<prov::plugin::Value>()> next, Span span) {
    PipelineOutput o;
    o.kind = Kind::ListStream;
    o.next = std::move(next);
    o.span = span;
    return o;
  }
  /// A byte stream of `type` whose metadata names `content_type`.
  static PipelineOutput bytes(std::function<std::optional<std::string>()> next, Span span, std::string type,
                              std::string content_type) {
    PipelineOutput o;
    o.kind = Kind::ByteStream;
    o.next_bytes = std::move(next);
    o.span = span;
    o.byte_type = std::move(type);
    o.content_type = std::move(content_type);
    return o;
  }
  /// `text`, all in hand, as a String byte stream of 64 KiB chunks whose metadata names
  /// `content_type`.
  static PipelineOutput text_bytes(std::string text, Span span, std::string content_type) {
    auto held = std::make_shared<std::string>(std::move(text));
    auto at = std::make_shared<size_t>(0);
    return bytes(
        [held, at]() -> std::optional<std::string> {
          if (*at >= held->size()) return std::nullopt;
          std::string chunk = held->substr(*at, 64u << 10);
          *at += chunk.size();
          return chunk;
        },
        span, "String", std::move(content_type));
  }
  /// A stream of items that are ready at once (see ready_items).
  static PipelineOutput ready_stream(std::function<std::optional<prov::plugin::Value>()> next, Span span) {
    PipelineOutput o = stream(std::move(next), span);
    o.ready_items = true;
    return o;
  }
};

}  // namespace prov::plugin
