#include "core/events/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/state/file_io.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {
ResourceError io_error(const std::string& what, const std::string& path) {
  return ResourceError("provisioning::state::io", what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

EventLogWriter::EventLogWriter(std::string path) : path_(std::move(path)) {
  UniqueFd fd(::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw prov::io_error("open the event log", path_, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw prov::io_error("inspect", path_, errno);
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    // Keep whole lines only: a torn last line would run into the next one written.
    std::string data = read_all(fd.get(), path_);
    const size_t whole = data.empty() || data.back() == '\n' ? data.size() : data.rfind('\n') + 1;
    if (whole != data.size()) {
      if (::ftruncate(fd.get(), static_cast<off_t>(whole)) != 0) throw prov::io_error("repair", path_, errno);
    }
    size_ = whole;
  }
  fd_ = std::move(fd);
}

void EventLogWriter::append(const Event& e) {
  std::string line = encode_json(e.to_datum());
  line += '\n';
  append_lines(line);
}

void EventLogWriter::append_lines(const std::string& lines) {
  std::lock_guard l(m_);
  try {
    write_all(fd_.get(), lines, path_);
  } catch (const ResourceError&) {
    // Take back a partial write; if even that fails, the next writer cuts it off on opening.
    if (::ftruncate(fd_.get(), static_cast<off_t>(size_)) != 0) {
    }
    throw;
  }
  size_ += lines.size();
}

std::vector<Event> EventLogReader::poll() {
  std::vector<Event> out;
  const UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return out;
    throw io_error("cannot read the event log", path_);
  }
  std::string data;
  char buf[64 * 1024];
  off_t pos = static_cast<off_t>(offset_);
  while (true) {
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, pos);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot read the event log", path_);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    pos += n;
  }
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
