#include "plugin/engine/pipeline.hpp"

#include "plugin/engine/connection.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

PipelineInput::~PipelineInput() {
  if (stream_ && !finished_ && conn_) {
    try {
      conn_->send(drop_message(header_.stream_id));
    } catch (...) {
      // The engine is gone; nothing to tell it.
    }
  }
}

bool PipelineInput::is_empty() const {
  return header_.kind == PipelineDataHeader::Kind::Empty ||
         (header_.kind == PipelineDataHeader::Kind::Value && header_.value->is(Value::Type::Nothing));
}

void PipelineInput::over_limit(const std::function<void()>& check) const {
  try {
    check();
  } catch (const prov::LimitError& e) {
    // Unread, the stream is dropped when this input goes: the engine stops producing it.
    throw labeled(e.what(), "this input is over the limit", header_.span, e.code(), e.help());
  }
}

Value PipelineInput::collect(const prov::Limits& limits) {
  using K = PipelineDataHeader::Kind;
  switch (header_.kind) {
    case K::Empty: return Value::nothing(header_.span);
    case K::Value: return *header_.value;
    case K::ListStream:
    case K::ByteStream: break;
  }
  std::vector<Value> items;
  std::vector<uint8_t> bytes;
  while (auto d = stream_->next()) {
    conn_->send(ack_message(header_.stream_id));
    if (d->is_list) {
      if (d->value.is(Value::Type::Error)) throw LabeledErrorException(d->value.as_error());
      items.push_back(std::move(d->value));
      over_limit([&] { prov::check_stream_length(items.size(), limits); });
    } else if (d->raw_ok) {
      bytes.insert(bytes.end(), d->bytes.begin(), d->bytes.end());
      over_limit([&] { prov::check_message_size(bytes.size(), limits, "the input byte stream"); });
    } else {
      throw LabeledErrorException(d->error);
    }
  }
  finished_ = true;
  // The engine wants a Drop in reply to End.
  conn_->send(drop_message(header_.stream_id));
  if (header_.kind == K::ListStream) return Value::list(std::move(items), header_.span);
  if (header_.byte_stream_type == "Binary") return Value::binary(std::move(bytes), header_.span);
  return Value::string(std::string(bytes.begin(), bytes.end()), header_.span);
}

}  // namespace prov::plugin
