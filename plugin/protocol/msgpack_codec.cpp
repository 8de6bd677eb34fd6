#include "plugin/protocol/msgpack_codec.hpp"

#include <cstring>
#include <msgpack.hpp>

#include "plugin/protocol/direct_input.hpp"

namespace prov::plugin {

namespace {

/// msgpack-c's packer writes through any type with write(const char*, size_t).
struct StringSink {
  std::string& out;
  void write(const char* data, size_t n) { out.append(data, n); }
};

/// Always float64: msgpack-c's pack_double turns integral doubles into integers, and Nushell
/// (rmp-serde) writes every f64 as float64.
void pack_float64(StringSink& sink, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  char buf[9];
  buf[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  sink.write(buf, sizeof buf);
}

void pack(msgpack::packer<StringSink>& pk, StringSink& sink, const Wire& w) {
  switch (w.type()) {
    case Wire::value_t::null: pk.pack_nil(); break;
    case Wire::value_t::boolean: w.get<bool>() ? pk.pack_true() : pk.pack_false(); break;
    case Wire::value_t::number_integer: pk.pack_int64(w.get<int64_t>()); break;
    case Wire::value_t::number_unsigned: pk.pack_uint64(w.get<uint64_t>()); break;
    case Wire::value_t::number_float: pack_float64(sink, w.get<double>()); break;
    case Wire::value_t::string: {
      const auto& s = w.get_ref<const std::string&>();
      pk.pack_str(static_cast<uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
      break;
    }
    case Wire::value_t::binary: {
      const auto& b = w.get_binary();
      pk.pack_bin(static_cast<uint32_t>(b.size()));
      pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
      break;
    }
    case Wire::value_t::array:
      pk.pack_array(static_cast<uint32_t>(w.size()));
      for (const auto& e : w) pack(pk, sink, e);
      break;
    case Wire::value_t::object:
      pk.pack_map(static_cast<uint32_t>(w.size()));
      for (auto it = w.begin(); it != w.end(); ++it) {
        pk.pack_str(static_cast<uint32_t>(it.key().size()));
        pk.pack_str_body(it.key().data(), static_cast<uint32_t>(it.key().size()));
        pack(pk, sink, it.value());
      }
      break;
    case Wire::value_t::discarded: pk.pack_nil(); break;
  }
}

Wire to_wire(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return nullptr;
    case msgpack::type::BOOLEAN: return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER: return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER: return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return o.via.f64;
    case msgpack::type::STR: return std::string(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN: {
      std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(o.via.bin.ptr),
                                 reinterpret_cast<const uint8_t*>(o.via.bin.ptr) + o.via.bin.size);
      return Wire::binary(std::move(bytes));
    }
    case msgpack::type::ARRAY: {
      Wire arr = Wire::array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) arr.push_back(to_wire(o.via.array.ptr[i]));
      return arr;
    }
    case msgpack::type::MAP: {
      Wire obj = Wire::object();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) throw ProtocolError("msgpack: map key is not a string");
        obj[std::string(kv.key.via.str.ptr, kv.key.via.str.size)] = to_wire(kv.val);
      }
      return obj;
    }
    case msgpack::type::EXT: throw ProtocolError("msgpack: unexpected ext type");
  }
  throw ProtocolError("msgpack: unknown object type");
}

}  // namespace

MsgpackCodec::MsgpackCodec(CodecLimits limits) : limits_(limits) {}

void MsgpackCodec::encode(const Wire& message, std::string& out) const {
  StringSink sink{out};
  msgpack::packer<StringSink> pk(sink);
  pack(pk, sink, message);
}

void MsgpackCodec::feed(std::string_view bytes) {
  if (head_ > 0 && head_ >= buf_.size() / 2) {  // drop what was read, at most once per half
    buf_.erase(0, head_);
    scan_ -= head_;
    head_ = 0;
  }
  buf_.append(bytes);
}

bool MsgpackCodec::has_partial() const { return buf_.size() > head_; }

namespace {

/// The big-endian unsigned integer of `n` bytes at `p`.
uint64_t read_be(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

bool MsgpackCodec::scan_message() {
  const auto too_large = [&] {
    return ProtocolError(message_too_large("msgpack", limits_), "provisioning::limits::message_size");
  };
  while (true) {
    // One item: its header, then (for strings, binaries, exts) its payload, or its members.
    const size_t left = buf_.size() - scan_;
    if (left == 0) return false;
    const char* p = buf_.data() + scan_;
    const auto b = static_cast<unsigned char>(p[0]);
    size_t header = 1;        // bytes of the header
    uint64_t payload = 0;     // bytes after the header
    uint64_t members = 0;     // items that follow as members of an array or map
    size_t length_bytes = 0;  // size of a length field after the type byte
    size_t extra = 0;         // bytes between the length field and the payload (ext type)
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b <= 0x8f) {
      members = 2u * (b & 0x0fu);
    } else if (b <= 0x9f) {
      members = b & 0x0fu;
    } else if (b <= 0xbf) {
      payload = b & 0x1fu;
    } else if (b == 0xc1) {
      throw ProtocolError("msgpack: malformed message: reserved byte 0xc1");
    } else if (b >= 0xc4 && b <= 0xc6) {
      length_bytes = size_t{1} << (b - 0xc4);
    } else if (b >= 0xc7 && b <= 0xc9) {
      length_bytes = size_t{1} << (b - 0xc7), extra = 1;
    } else if (b == 0xca || b == 0xcb) {
      header += b == 0xca ? 4 : 8;
    } else if (b >= 0xcc && b <= 0xd3) {
      header += size_t{1} << ((b - 0xcc) % 4);
    } else if (b >= 0xd4 && b <= 0xd8) {
      header += 1 + (size_t{1} << (b - 0xd4));
    } else if (b >= 0xd9 && b <= 0xdb) {
      length_bytes = size_t{1} << (b - 0xd9);
    } else {  // 0xdc..0xdf: array16, array32, map16, map32
      length_bytes = b == 0xdc || b == 0xde ? 2 : 4;
    }
    if (left < header + length_bytes + extra) return false;
    if (length_bytes > 0) {
      const uint64_t n = read_be(p + 1, length_bytes);
      header += length_bytes + extra;
      if (b >= 0xdc)
        members = b >= 0xde ? 2 * n : n;
      else
        payload = n;
    }
    // Every member takes at least a byte: claims are checked against the limit before anything
    // is allocated for them.
    const uint64_t size_so_far = scan_ - head_ + header + payload;
    if (size_so_far + due_ + members > limits_.max_message_bytes) throw too_large();
    if (left - header < payload) return false;
    scan_ += header + payload;
    if (members > 0) {
      if (open_.size() >= limits_.max_depth)
        throw ProtocolError(message_too_deep("msgpack", limits_), "provisioning::limits::depth");
      open_.push_back(members);
      due_ += members;
      continue;
    }
    // The item is complete, and with it every container whose last member it was.
    while (!open_.empty()) {
      --due_;
      if (--open_.back() > 0) break;
      open_.pop_back();
    }
    if (open_.empty()) return true;
  }
}

Wire MsgpackCodec::unpack_scanned() const {
  const size_t size = scan_ - head_;
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(buf_.data() + head_, size, nullptr, nullptr,
                         msgpack::unpack_limit(size, size, size, size, size, limits_.max_depth + 1));
  } catch (const std::exception& e) {
    throw ProtocolError(std::string("msgpack: malformed message: ") + e.what());
  }
  return to_wire(oh.get());
}

std::optional<Wire> MsgpackCodec::next() {
  if (!scan_message()) return std::nullopt;
  Wire w = unpack_scanned();
  head_ = scan_;
  return w;
}

std::optional<PluginInput> MsgpackCodec::next_input() {
  if (!scan_message()) return std::nullopt;
  std::optional<PluginInput> in = read_msgpack_input(std::string_view(buf_).substr(head_, scan_ - head_));
  if (!in) in = parse_plugin_input(unpack_scanned());
  head_ = scan_;
  return in;
}

}  // namespace prov::plugin
