#include "plugin/protocol/json_codec.hpp"

#include <cstdio>

#include "plugin/protocol/direct_input.hpp"

namespace prov::plugin {

Wire json_compatible(const Wire& w) {
  switch (w.type()) {
    case Wire::value_t::binary: {
      Wire arr = Wire::array();
      for (uint8_t b : w.get_binary()) arr.push_back(b);
      return arr;
    }
    case Wire::value_t::array: {
      Wire arr = Wire::array();
      for (const auto& e : w) arr.push_back(json_compatible(e));
      return arr;
    }
    case Wire::value_t::object: {
      Wire obj = Wire::object();
      for (auto it = w.begin(); it != w.end(); ++it) obj[it.key()] = json_compatible(it.value());
      return obj;
    }
    default:
      return w;
  }
}

namespace {
bool contains_binary(const Wire& w) {
  if (w.is_binary()) return true;
  if (w.is_structured())
    for (const auto& e : w)
      if (contains_binary(e)) return true;
  return false;
}
}  // namespace

void JsonCodec::encode(const Wire& message, std::string& out) const {
  out += contains_binary(message) ? json_compatible(message).dump() : message.dump();
  out += '\n';
}

void JsonCodec::feed(std::string_view bytes) { buf_.append(bytes); }

bool JsonCodec::has_partial() const {
  for (char c : buf_)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return true;
  return false;
}

std::optional<size_t> JsonCodec::frame() {
  // Skip whitespace before a message.
  if (!started_) {
    size_t i = 0;
    while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\n' || buf_[i] == '\r' || buf_[i] == '\t')) ++i;
    buf_.erase(0, i);
    if (buf_.empty()) return std::nullopt;
    char first = buf_[0];
    if (first != '{' && first != '"')
      throw ProtocolError("json: a message must start with '{' or '\"', got byte 0x" +
                          [](unsigned char c) { char h[3]; std::snprintf(h, 3, "%02x", c); return std::string(h); }(first));
    started_ = true;
    scan_ = 0;
    depth_ = 0;
    in_string_ = false;
    escaped_ = false;
  }
  size_t end = std::string::npos;
  for (; scan_ < buf_.size(); ++scan_) {
    char c = buf_[scan_];
    if (in_string_) {
      if (escaped_) escaped_ = false;
      else if (c == '\\') escaped_ = true;
      else if (c == '"') {
        in_string_ = false;
        if (depth_ == 0) { end = scan_ + 1; break; }
      }
      continue;
    }
    if (c == '"') in_string_ = true;
    else if (c == '{' || c == '[') {
      if (++depth_ > limits_.max_depth)
        throw ProtocolError(message_too_deep("json", limits_), "provisioning::limits::depth");
    } else if (c == '}' || c == ']') {
      if (depth_ == 0) throw ProtocolError("json: unbalanced closing bracket");
      if (--depth_ == 0) { end = scan_ + 1; break; }
    }
  }
  if (end == std::string::npos) {
    if (buf_.size() > limits_.max_message_bytes)
      throw ProtocolError(message_too_large("json", limits_), "provisioning::limits::message_size");
    return std::nullopt;
  }
  if (end > limits_.max_message_bytes)
    throw ProtocolError(message_too_large("json", limits_), "provisioning::limits::message_size");
  return end;
}

Wire JsonCodec::parse_framed(size_t end) const {
  try {
    return Wire::parse(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(end));
  } catch (const nlohmann::json::exception& e) {
    throw ProtocolError(std::string("json: malformed message: ") + e.what());
  }
}

void JsonCodec::drop_framed(size_t end) {
  buf_.erase(0, end);
  started_ = false;
}

std::optional<Wire> JsonCodec::next() {
  const std::optional<size_t> end = frame();
  if (!end) return std::nullopt;
  Wire msg = parse_framed(*end);
  drop_framed(*end);
  return msg;
}

std::optional<PluginInput> JsonCodec::next_input() {
  const std::optional<size_t> end = frame();
  if (!end) return std::nullopt;
  std::optional<PluginInput> in = read_json_input(std::string_view(buf_).substr(0, *end));
  if (!in) in = parse_plugin_input(parse_framed(*end));
  drop_framed(*end);
  return in;
}

}  // namespace prov::plugin
