#include "core/events/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {
ResourceError io_error(const std::string& what, const std::string& path) {
  return ResourceError("provisioning::state::io", what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

EventLogWriter::EventLogWriter(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) throw io_error("cannot open the event log", path_);
}

EventLogWriter::~EventLogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void EventLogWriter::append(const Event& e) {
  std::string line = encode_json(e.to_datum());
  line += '\n';
  append_lines(line);
}

void EventLogWriter::append_lines(const std::string& line) {
  std::lock_guard l(m_);
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot write the event log", path_);
    }
    off += static_cast<size_t>(n);
  }
}

std::vector<Event> EventLogReader::poll() {
  std::vector<Event> out;
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    throw io_error("cannot read the event log", path_);
  }
  std::string data;
  char buf[64 * 1024];
  off_t pos = static_cast<off_t>(offset_);
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw io_error("cannot read the event log", path_);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    pos += n;
  }
  ::close(fd);
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) break;  // a partial last line waits for its end
    ++line_no_;
    std::string_view line(data.data() + start, nl - start);
    try {
      out.push_back(Event::from_datum(decode_json(line)));
    } catch (const Error& e) {
      throw ResourceError("provisioning::events::malformed",
                          path_ + ": line " + std::to_string(line_no_) + " is not an event: " + e.what());
    }
    start = nl + 1;
  }
  offset_ += start;
  return out;
}

std::vector<Event> read_event_log(const std::string& path) { return EventLogReader(path).poll(); }

}  // namespace prov
