#include "core/state/log_tail.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/state/file_io.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

ResourceError io(const char* what, const std::string& path, int err) {
  return ResourceError("provisioning::state::io",
                       std::string("cannot ") + what + " " + path + ": " + std::strerror(err));
}

}  // namespace

std::string read_log_tail(int fd, size_t limit, const std::string& path, uint64_t& size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw io("inspect", path, errno);
  size = static_cast<uint64_t>(st.st_size);
  const uint64_t want = size < limit ? size : limit;
  const off_t from = static_cast<off_t>(size - want);
  std::string out(want, '\0');
  size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd, out.data() + got, want - got, from + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io("read", path, errno);
    if (n == 0) break;  // it shrank meanwhile
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  if (from == 0) return out;
  // Cut: from the start of a line; without a newline, not inside a UTF-8 character.
  const size_t nl = out.find('\n');
  if (nl != std::string::npos && nl + 1 < out.size()) return out.substr(nl + 1);
  size_t start = 0;
  while (start < out.size() && start < 4 && (static_cast<unsigned char>(out[start]) & 0xC0) == 0x80) ++start;
  return out.substr(start);
}

std::string encode_log_tail(const LogTail& tail) {
  const Datum head(DatumRecord{
      {"host", Datum(tail.host)}, {"path", Datum(tail.path)}, {"size", Datum(static_cast<int64_t>(tail.size))}});
  return encode_json(head) + "\n" + tail.bytes;
}

std::optional<LogTail> decode_log_tail(const std::string& value) {
  const size_t nl = value.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  Datum head;
  try {
    head = decode_json(std::string_view(value).substr(0, nl));
  } catch (const Error&) {
    return std::nullopt;
  }
  const Datum* host = head.find("host");
  const Datum* path = head.find("path");
  const Datum* size = head.find("size");
  if (!host || !host->is_string() || !path || !path->is_string() || !size || !std::holds_alternative<int64_t>(size->v))
    return std::nullopt;
  return LogTail{host->str(), path->str(), static_cast<uint64_t>(std::get<int64_t>(size->v)), value.substr(nl + 1)};
}

UniqueFd memory_file(const std::string& bytes) {
  UniqueFd f(::memfd_create("prov-log-tail", MFD_CLOEXEC));
  if (!f) throw io("make", "a file in memory", errno);
  write_all(f.get(), bytes, "a file in memory");
  if (::lseek(f.get(), 0, SEEK_SET) < 0) throw io("seek in", "a file in memory", errno);
  return f;
}

}  // namespace prov
