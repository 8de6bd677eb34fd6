#include "plugin/engine/connection.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace prov::plugin {

void Connection::send_encoding() {
  std::string name(codec_->name());
  std::string bytes(1, static_cast<char>(name.size()));
  bytes += name;
  std::lock_guard lock(write_mutex_);
  write_all(bytes);
}

void Connection::send(const Wire& message) {
  std::string bytes;
  codec_->encode(message, bytes);
  std::lock_guard lock(write_mutex_);
  write_all(bytes);
}

void Connection::send_value_response(uint64_t call_id, const Value& v) {
  std::string bytes;
  write_value_response(encoding_, call_id, v, dialect(), bytes);
  std::lock_guard lock(write_mutex_);
  write_all(bytes);
}

void Connection::send_list_data(uint64_t stream_id, const Value& v) {
  // A stream sends many small items from one thread: reuse that thread's buffer.
  thread_local std::string bytes;
  bytes.clear();
  write_list_data(encoding_, stream_id, v, dialect(), bytes);
  {
    std::lock_guard lock(write_mutex_);
    write_all(bytes);
  }
  if (bytes.capacity() > (1 << 20)) bytes = std::string();  // keep no huge buffer around
}

void Connection::encode_list_data(uint64_t stream_id, const Value& v, std::string& out) const {
  write_list_data(encoding_, stream_id, v, dialect(), out);
}

void Connection::send_bytes(const std::string& bytes) {
  std::lock_guard lock(write_mutex_);
  write_all(bytes);
}

void Connection::write_all(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "writing to the engine");
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace prov::plugin
