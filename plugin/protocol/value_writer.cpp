#include "plugin/protocol/value_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>
#include <cstring>

#include "core/support/utf8.hpp"
#include "plugin/protocol/json_codec.hpp"

namespace prov::plugin {

namespace {

/// MessagePack, written as msgpack-c and rmp-serde lay it out: the smallest integer form,
/// float64 for every float, str for strings.
struct MsgpackOut {
  std::string& out;
  void byte(uint8_t b) { out.push_back(static_cast<char>(b)); }
  /// `marker` then `v` big-endian in `bytes` bytes, in one append.
  void tagged(uint8_t marker, uint64_t v, int bytes) {
    char b[9];
    b[0] = static_cast<char>(marker);
    for (int i = 0; i < bytes; ++i) b[1 + i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
    out.append(b, static_cast<size_t>(bytes) + 1);
  }
  void map(size_t n) {
    if (n < 16) byte(static_cast<uint8_t>(0x80 | n));
    else if (n < 65536) tagged(0xde, n, 2);
    else tagged(0xdf, n, 4);
  }
  void array(size_t n) {
    if (n < 16) byte(static_cast<uint8_t>(0x90 | n));
    else if (n < 65536) tagged(0xdc, n, 2);
    else tagged(0xdd, n, 4);
  }
  void str(std::string_view s) {
    if (!is_valid_utf8(s)) return str(to_valid_utf8(std::string(s)));  // Nushell refuses it whole otherwise
    size_t n = s.size();
    if (n < 32) byte(static_cast<uint8_t>(0xa0 | n));
    else if (n < 256) tagged(0xd9, n, 1);
    else if (n < 65536) tagged(0xda, n, 2);
    else tagged(0xdb, n, 4);
    out.append(s);
  }
  void key(std::string_view k) { str(k); }
  void uint(uint64_t v) {
    if (v < 128) byte(static_cast<uint8_t>(v));
    else if (v < 256) tagged(0xcc, v, 1);
    else if (v < 65536) tagged(0xcd, v, 2);
    else if (v <= 0xffffffffULL) tagged(0xce, v, 4);
    else tagged(0xcf, v, 8);
  }
  void sint(int64_t v) {
    if (v >= 0) return uint(static_cast<uint64_t>(v));
    if (v >= -32) byte(static_cast<uint8_t>(v));
    else if (v >= -128) tagged(0xd0, static_cast<uint64_t>(v), 1);
    else if (v >= -32768) tagged(0xd1, static_cast<uint64_t>(v), 2);
    else if (v >= INT32_MIN) tagged(0xd2, static_cast<uint64_t>(v), 4);
    else tagged(0xd3, static_cast<uint64_t>(v), 8);
  }
  void f64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    tagged(0xcb, bits, 8);
  }
  void boolean(bool b) { byte(b ? 0xc3 : 0xc2); }
  void nil() { byte(0xc0); }
};

/// JSON as nlohmann's dump() writes it: no spaces, shortest round-trip floats with ".0".
struct JsonOut {
  std::string& out;
  std::vector<bool> first;  ///< per open container: nothing written in it yet
  void sep() {
    if (!first.empty()) {
      if (!first.back()) out.push_back(',');
      first.back() = false;
    }
  }
  void map(size_t) { sep(); out.push_back('{'); first.push_back(true); }
  void array(size_t) { sep(); out.push_back('['); first.push_back(true); }
  void end_map() { first.pop_back(); out.push_back('}'); }
  void end_array() { first.pop_back(); out.push_back(']'); }
  void quoted(std::string_view s) {
    if (!is_valid_utf8(s)) return quoted(to_valid_utf8(std::string(s)));  // Nushell refuses it whole otherwise
    out.push_back('"');
    // Runs of characters that need no escape go out in one append.
    size_t run = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out.append(s.substr(run, i - run));
      run = i + 1;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        }
      }
    }
    out.append(s.substr(run));
    out.push_back('"');
  }
  void key(std::string_view k) {
    sep();
    quoted(k);
    out.push_back(':');
    first.back() = true;  // the value that follows takes no comma
  }
  void str(std::string_view s) { sep(); quoted(s); }
  template <typename I>
  void integer(I v) {
    sep();
    char buf[24];
    out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
  }
  void uint(uint64_t v) { integer(v); }
  void sint(int64_t v) { integer(v); }
  void f64(double d) {
    sep();
    if (d != d || d == HUGE_VAL || d == -HUGE_VAL) { out += "null"; return; }
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view s(buf, static_cast<size_t>(p - buf));
    out.append(s);
    if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
  }
  void boolean(bool b) { sep(); out += b ? "true" : "false"; }
  void nil() { sep(); out += "null"; }
};

// Both writers take the same calls; JSON needs the ends, MessagePack counted ahead.
template <typename W> void end_map(W& w) { if constexpr (std::is_same_v<W, JsonOut>) w.end_map(); }
template <typename W> void end_array(W& w) { if constexpr (std::is_same_v<W, JsonOut>) w.end_array(); }

template <typename W>
void span(W& w, const Span& s) {
  w.map(2);
  w.key("start");
  w.uint(s.start);
  w.key("end");
  w.uint(s.end);
  end_map(w);
}

/// Values whose shape is not on the hot path go through the Wire tree.
template <typename W>
void wire(W& w, const Wire& x) {
  switch (x.type()) {
    case Wire::value_t::null: w.nil(); break;
    case Wire::value_t::boolean: w.boolean(x.get<bool>()); break;
    case Wire::value_t::number_integer: w.sint(x.get<int64_t>()); break;
    case Wire::value_t::number_unsigned: w.uint(x.get<uint64_t>()); break;
    case Wire::value_t::number_float: w.f64(x.get<double>()); break;
    case Wire::value_t::string: w.str(x.get_ref<const std::string&>()); break;
    case Wire::value_t::binary:
      w.array(x.get_binary().size());
      for (uint8_t b : x.get_binary()) w.uint(b);
      end_array(w);
      break;
    case Wire::value_t::array:
      w.array(x.size());
      for (const auto& e : x) wire(w, e);
      end_array(w);
      break;
    case Wire::value_t::object:
      w.map(x.size());
      for (auto it = x.begin(); it != x.end(); ++it) {
        w.key(it.key());
        wire(w, it.value());
      }
      end_map(w);
      break;
    case Wire::value_t::discarded: w.nil(); break;
  }
}

template <typename W>
void value(W& w, const Value& v, const Dialect& d) {
  using T = Value::Type;
  auto simple = [&](const char* tag, auto&& write_val) {
    w.map(1);
    w.key(tag);
    w.map(2);
    w.key("val");
    write_val();
    w.key("span");
    span(w, v.span);
    end_map(w);
    end_map(w);
  };
  switch (v.type) {
    case T::Bool: return simple("Bool", [&] { w.boolean(v.as_bool()); });
    case T::Int: return simple("Int", [&] { w.sint(v.as_int()); });
    case T::Float: return simple("Float", [&] { w.f64(v.as_float()); });
    case T::Filesize: return simple("Filesize", [&] { w.sint(v.as_int()); });
    case T::Duration: return simple("Duration", [&] { w.sint(v.as_int()); });
    case T::Date: return simple("Date", [&] { w.str(v.as_string()); });
    case T::String: return simple("String", [&] { w.str(v.as_string()); });
    case T::Record:
      return simple("Record", [&] {
        const auto& r = v.as_record();
        w.map(r.size());
        for (const auto& [k, e] : r) {
          w.key(k);
          value(w, e, d);
        }
        end_map(w);
      });
    case T::List: {
      w.map(1);
      w.key("List");
      w.map(2);
      w.key("vals");
      const auto& l = v.as_list();
      w.array(l.size());
      for (const auto& e : l) value(w, e, d);
      end_array(w);
      w.key("span");
      span(w, v.span);
      end_map(w);
      end_map(w);
      return;
    }
    case T::Nothing:
      w.map(1);
      w.key("Nothing");
      w.map(1);
      w.key("span");
      span(w, v.span);
      end_map(w);
      end_map(w);
      return;
    default:
      wire(w, to_wire(v, d));
  }
}

template <typename W>
void response(W& w, uint64_t id, const Value& v, const Dialect& d) {
  w.map(1);
  w.key("CallResponse");
  w.array(2);
  w.uint(id);
  w.map(1);
  w.key("PipelineData");
  w.map(1);
  w.key("Value");
  w.array(2);
  value(w, v, d);
  w.nil();
  end_array(w);
  end_map(w);
  end_map(w);
  end_array(w);
  end_map(w);
}

template <typename W>
void list_data(W& w, uint64_t id, const Value& v, const Dialect& d) {
  w.map(1);
  w.key("Data");
  w.array(2);
  w.uint(id);
  w.map(1);
  w.key("List");
  value(w, v, d);
  end_map(w);
  end_array(w);
  end_map(w);
}

}  // namespace

void write_value_response(Encoding enc, uint64_t call_id, const Value& v, const Dialect& d, std::string& out) {
  if (enc == Encoding::msgpack) {
    MsgpackOut w{out};
    response(w, call_id, v, d);
  } else {
    JsonOut w{out, {}};
    response(w, call_id, v, d);
    out.push_back('\n');
  }
}

void write_list_data(Encoding enc, uint64_t stream_id, const Value& v, const Dialect& d, std::string& out) {
  if (enc == Encoding::msgpack) {
    MsgpackOut w{out};
    list_data(w, stream_id, v, d);
  } else {
    JsonOut w{out, {}};
    list_data(w, stream_id, v, d);
    out.push_back('\n');
  }
}

}  // namespace prov::plugin
