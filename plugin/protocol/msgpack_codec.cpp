#include "plugin/protocol/msgpack_codec.hpp"

#include <cstring>
#include <msgpack.hpp>

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

struct MsgpackCodec::Unpacker {
  msgpack::unpacker u;
  explicit Unpacker(const CodecLimits& l)
      : u(nullptr, nullptr, MSGPACK_UNPACKER_INIT_BUFFER_SIZE,
          msgpack::unpack_limit(l.max_message_bytes, l.max_message_bytes, l.max_message_bytes,
                                l.max_message_bytes, l.max_message_bytes, l.max_depth)) {}
};

MsgpackCodec::MsgpackCodec(CodecLimits limits)
    : limits_(limits), unpacker_(std::make_unique<Unpacker>(limits)) {}

MsgpackCodec::~MsgpackCodec() = default;

void MsgpackCodec::encode(const Wire& message, std::string& out) const {
  StringSink sink{out};
  msgpack::packer<StringSink> pk(sink);
  pack(pk, sink, message);
}

void MsgpackCodec::feed(std::string_view bytes) {
  unpacker_->u.reserve_buffer(bytes.size());
  std::memcpy(unpacker_->u.buffer(), bytes.data(), bytes.size());
  unpacker_->u.buffer_consumed(bytes.size());
  unfinished_ += bytes.size();
}

bool MsgpackCodec::has_partial() const { return unfinished_ > 0; }

std::optional<Wire> MsgpackCodec::next() {
  msgpack::object_handle oh;
  try {
    if (!unpacker_->u.next(oh)) {
      if (unpacker_->u.nonparsed_size() > limits_.max_message_bytes)
        throw ProtocolError(message_too_large("msgpack", limits_), "provisioning::limits::message_size");
      return std::nullopt;
    }
  } catch (const ProtocolError&) {
    throw;
  } catch (const msgpack::depth_size_overflow&) {
    throw ProtocolError(message_too_deep("msgpack", limits_), "provisioning::limits::depth");
  } catch (const msgpack::size_overflow&) {
    throw ProtocolError(message_too_large("msgpack", limits_), "provisioning::limits::message_size");
  } catch (const std::exception& e) {
    throw ProtocolError(std::string("msgpack: malformed message: ") + e.what());
  }
  // What is left unparsed belongs to the next message.
  unfinished_ = unpacker_->u.nonparsed_size();
  return to_wire(oh.get());
}

}  // namespace prov::plugin
