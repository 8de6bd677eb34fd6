#include "core/state/journal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "core/state/file_io.hpp"
#include "core/support/crc32.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

constexpr std::string_view kMagic = "prov-journal ";

/// "<len> <crc32> <json>\n"
std::string frame(const std::string& json) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc32(json));
  std::string line = std::to_string(json.size());
  line.reserve(line.size() + json.size() + 11);
  line += ' ';
  line += crc;
  line += ' ';
  line += json;
  line += '\n';
  return line;
}

std::string header_line(const Datum& header) {
  return std::string(kMagic) + std::to_string(kJournalVersion) + " " + frame(encode_json(header));
}

enum class Frame { ok, malformed, checksum };

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/// Checks "<len> <crc32> <json>" (a line without its newline) strictly, so that any changed
/// byte fails: decimal without leading zeros, exactly 8 lowercase hex digits, single spaces.
Frame unframe(std::string_view line, std::string_view& payload) {
  size_t i = 0;
  uint64_t len = 0;
  while (i < line.size() && i < 12 && line[i] >= '0' && line[i] <= '9')
    len = len * 10 + uint64_t(line[i++] - '0');
  if (i == 0 || (line[0] == '0' && i > 1) || i >= line.size() || line[i] != ' ')
    return Frame::malformed;
  ++i;
  if (line.size() - i < 9 || line[i + 8] != ' ') return Frame::malformed;
  uint32_t crc = 0;
  for (size_t k = 0; k < 8; ++k) {
    const int h = hex_digit(line[i + k]);
    if (h < 0) return Frame::malformed;
    crc = crc << 4 | uint32_t(h);
  }
  payload = line.substr(i + 9);
  if (payload.size() != len) return Frame::malformed;
  return crc32(payload) == crc ? Frame::ok : Frame::checksum;
}

ResourceError corrupt(const std::string& path, const std::string& why) {
  return ResourceError("provisioning::state::corrupt_journal",
                       "the journal " + path + " cannot be read: " + why,
                       "the workflow's state cannot be rebuilt from it; move the workflow's "
                       "directory aside and run the workflow again");
}

Journal::Recovery parse(std::string_view content, const std::string& path) {
  if (content.substr(0, kMagic.size()) != kMagic) {
    if (content.empty()) throw corrupt(path, "it is empty");
    if (kMagic.substr(0, content.size()) == content)
      throw corrupt(path, "its header is incomplete");
    throw corrupt(path, "it is not a workflow journal (no \"prov-journal\" header)");
  }
  const size_t nl = content.find('\n');
  if (nl == std::string_view::npos) throw corrupt(path, "its header is incomplete");
  const std::string_view line = content.substr(kMagic.size(), nl - kMagic.size());
  const size_t space = line.find(' ');
  const std::string_view version = line.substr(0, space);
  if (space == std::string_view::npos || version.empty() || version.size() > 9 ||
      version.find_first_not_of("0123456789") != std::string_view::npos)
    throw corrupt(path, "its header has no format version");
  if (version != std::to_string(kJournalVersion))
    throw ResourceError(
        "provisioning::state::corrupt_journal",
        "the journal " + path + " has format version " + std::string(version) +
            "; this build reads version " + std::to_string(kJournalVersion),
        "it was written by another version of nu_plugin_provisioning; use that one");
  std::string_view payload;
  switch (unframe(line.substr(space + 1), payload)) {
    case Frame::malformed:
      throw corrupt(path, "its header is malformed");
    case Frame::checksum:
      throw corrupt(path, "its header fails its checksum");
    case Frame::ok:
      break;
  }
  Journal::Recovery r;
  try {
    r.header = decode_json(payload);
  } catch (const ResourceError& e) {
    throw corrupt(path, std::string("its header is not a record: ") + e.what());
  }
  size_t at = nl + 1;
  r.valid_bytes = at;
  for (uint64_t k = 1; at < content.size(); ++k) {
    const std::string where = " at byte " + std::to_string(at);
    const size_t end = content.find('\n', at);
    if (end == std::string_view::npos) {
      r.tail_problem = "truncated record" + where;
    } else {
      switch (unframe(content.substr(at, end - at), payload)) {
        case Frame::malformed:
          r.tail_problem = "malformed record " + std::to_string(k) + where;
          break;
        case Frame::checksum:
          r.tail_problem = "checksum mismatch at record " + std::to_string(k) + " (byte " +
                           std::to_string(at) + ")";
          break;
        case Frame::ok:
          try {
            r.records.push_back(decode_json(payload));
          } catch (const ResourceError& e) {
            r.tail_problem = "undecodable record " + std::to_string(k) + where + ": " + e.what();
          }
      }
    }
    if (!r.tail_problem.empty()) {
      r.tail_damaged = true;
      break;
    }
    at = end + 1;
    r.valid_bytes = at;
  }
  return r;
}

/// Opens a journal file without following a symlink; only regular files.
UniqueFd open_journal_file(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT)
      throw ResourceError("provisioning::state::no_journal", "there is no journal at " + path,
                          "`prov workflow list` shows the workflows of this workspace");
    if (errno == ELOOP)
      throw ResourceError("provisioning::state::unsafe_path",
                          "the journal " + path +
                              " is a symbolic link; state files are never followed through links",
                          "remove the link");
    throw io_error("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw io_error("inspect", path, errno);
  if (!S_ISREG(st.st_mode))
    throw ResourceError("provisioning::state::unsafe_path",
                        "the journal " + path + " is not a regular file",
                        "remove whatever is there");
  return fd;
}

/// A new temporary file beside `path`, 0600, opened to append; its name goes to `tmp`.
UniqueFd make_temp(const std::string& path, std::string& tmp) {
  std::string pattern = path + ".tmp-XXXXXX";
  UniqueFd fd(::mkostemp(pattern.data(), O_CLOEXEC | O_APPEND));
  if (!fd) throw io_error("create a temporary file beside", path, errno);
  tmp = pattern;
  if (::fchmod(fd.get(), 0600) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw io_error("set the mode of", tmp, err);
  }
  return fd;
}

/// Writes `content` to a new temporary file beside `path` and fsyncs it, then `install`s it
/// (link or rename to `path`) and removes the temporary name. Returns the file, open to
/// append; the caller fsyncs the directory.
template <typename Install>
UniqueFd write_and_install(const std::string& path, const std::string& content, Install install) {
  std::string tmp;
  UniqueFd fd = make_temp(path, tmp);
  try {
    write_all(fd.get(), content, tmp);
    if (::fsync(fd.get()) != 0) throw io_error("sync", tmp, errno);
    install(tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  ::unlink(tmp.c_str());  // gone already after a rename
  return fd;
}

std::string journal_text(const Datum& header, const std::vector<Datum>& records) {
  std::string text = header_line(header);
  for (const Datum& r : records) text += frame(encode_json(r));
  return text;
}

void rename_over(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw io_error("replace", path, errno);
}

}  // namespace

struct Journal::State {
  std::string path;
  mutable std::mutex m;
  std::condition_variable cv;  ///< notified when a sync ends
  UniqueFd fd;                 ///< open to append; replaced only by compact(), never during a sync
  uint64_t size = 0;           ///< bytes in the file, always at a record boundary
  uint64_t appended = 0;       ///< sequence number of the last record written
  uint64_t durable = 0;        ///< records up to this one are on disk; durable <= appended
  bool syncing = false;        ///< a waiter is in fdatasync, outside the lock
  uint64_t syncs = 0;          ///< fdatasync calls made
  std::optional<ResourceError> failed;  ///< the first failed write or sync; permanent
};

Journal::Journal(std::unique_ptr<State> s) : s_(std::move(s)) {}
Journal::Journal(Journal&&) noexcept = default;
Journal& Journal::operator=(Journal&&) noexcept = default;

Journal::~Journal() {
  if (s_ && !s_->failed && s_->durable < s_->appended && ::fdatasync(s_->fd.get()) != 0) {
    // Nothing to tell anyone now; what was written stays in the page cache.
  }
}

Journal Journal::create(const std::string& path, const Datum& header) {
  const std::string line = header_line(header);
  auto s = std::make_unique<State>();
  s->path = path;
  s->fd = write_and_install(path, line, [&](const std::string& tmp) {
    // link() never replaces: a journal that is there stays as it is.
    if (::link(tmp.c_str(), path.c_str()) == 0) return;
    if (errno == EEXIST)
      throw ResourceError("provisioning::state::journal_exists",
                          "a journal already exists at " + path,
                          "open it to append instead of creating it");
    throw io_error("create", path, errno);
  });
  sync_directory(parent_dir(path));
  s->size = line.size();
  return Journal(std::move(s));
}

Journal::Opened Journal::open_for_append(const std::string& path, TailRepair repair) {
  UniqueFd fd = open_journal_file(path, O_RDWR | O_APPEND);
  const std::string content = read_all(fd.get(), path);
  Recovery r = parse(content, path);
  if (r.tail_damaged) {
    const std::string kept = path + ".damaged-" + std::to_string(r.valid_bytes);
    if (repair == TailRepair::refuse)
      throw ResourceError("provisioning::state::damaged_journal",
                          "the journal " + path + " has a damaged tail: " + r.tail_problem,
                          "a crash cut it short or the disk damaged it; repairing it cuts the "
                          "damaged bytes off and keeps them in " +
                              kept);
    UniqueFd copy(
        ::open(kept.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!copy) throw io_error("create", kept, errno);
    write_all(copy.get(), std::string_view(content).substr(r.valid_bytes), kept);
    if (::fsync(copy.get()) != 0) throw io_error("sync", kept, errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(r.valid_bytes)) != 0)
      throw io_error("truncate", path, errno);
    if (::fsync(fd.get()) != 0) throw io_error("sync", path, errno);
    sync_directory(parent_dir(path));
  } else if (::fdatasync(fd.get()) != 0) {
    // A killed writer's last records may be written but not synced: anything built on them
    // (the event log, the next records) needs them on disk first.
    throw io_error("sync", path, errno);
  }
  auto s = std::make_unique<State>();
  s->path = path;
  s->fd = std::move(fd);
  s->size = r.valid_bytes;
  return Opened{Journal(std::move(s)), std::move(r)};
}

Journal::Recovery Journal::read(const std::string& path) {
  UniqueFd fd = open_journal_file(path, O_RDONLY);
  return parse(read_all(fd.get(), path), path);
}

void Journal::compact(const std::string& path, const Datum& header,
                      const std::vector<Datum>& records) {
  write_and_install(path, journal_text(header, records),
                    [&](const std::string& tmp) { rename_over(tmp, path); });
  sync_directory(parent_dir(path));
}

uint64_t Journal::append(const Datum& record) { return append_encoded(encode_json(record)); }

uint64_t Journal::append_encoded(const std::string& json) {
  const std::string line = frame(json);
  std::lock_guard lock(s_->m);
  if (s_->failed) throw *s_->failed;
  try {
    write_all(s_->fd.get(), line, s_->path);
  } catch (const ResourceError& e) {
    // Cut a partial record off so that the file stays whole records; if even that fails,
    // readers report the rest as a damaged tail.
    if (::ftruncate(s_->fd.get(), static_cast<off_t>(s_->size)) != 0) {
    }
    s_->failed = e;
    throw;
  }
  s_->size += line.size();
  return ++s_->appended;
}

void Journal::wait_durable(uint64_t seq) {
  std::unique_lock lock(s_->m);
  if (seq > s_->appended)
    throw std::invalid_argument("wait_durable: record " + std::to_string(seq) +
                                " was never appended");
  while (s_->durable < seq) {
    if (s_->failed) throw *s_->failed;
    if (s_->syncing) {
      s_->cv.wait(lock);
      continue;
    }
    // Lead: sync everything written so far; whoever waits meanwhile is covered or leads next.
    s_->syncing = true;
    const uint64_t target = s_->appended;
    const int fd = s_->fd.get();
    lock.unlock();
    const int rc = ::fdatasync(fd);
    const int err = errno;
    lock.lock();
    s_->syncing = false;
    ++s_->syncs;
    if (rc == 0)
      s_->durable = std::max(s_->durable, target);
    else
      s_->failed = io_error("sync", s_->path, err);
    s_->cv.notify_all();
  }
}

void Journal::sync() {
  uint64_t last;
  {
    std::lock_guard lock(s_->m);
    last = s_->appended;
  }
  wait_durable(last);
}

void Journal::compact(const Datum& header, const std::vector<Datum>& records) {
  const std::string text = journal_text(header, records);
  std::unique_lock lock(s_->m);
  s_->cv.wait(lock, [&] { return !s_->syncing; });
  if (s_->failed) throw *s_->failed;
  UniqueFd fd = write_and_install(s_->path, text,
                                  [&](const std::string& tmp) { rename_over(tmp, s_->path); });
  // From here on the old file is gone: appends must go to the new one whatever happens.
  s_->fd = std::move(fd);
  s_->size = text.size();
  try {
    sync_directory(parent_dir(s_->path));
  } catch (const ResourceError& e) {
    s_->failed = e;
    throw;
  }
  s_->durable = s_->appended;
}

const std::string& Journal::path() const { return s_->path; }

uint64_t Journal::size_bytes() const {
  std::lock_guard lock(s_->m);
  return s_->size;
}

uint64_t Journal::durable_seq() const {
  std::lock_guard lock(s_->m);
  return s_->durable;
}

uint64_t Journal::sync_count() const {
  std::lock_guard lock(s_->m);
  return s_->syncs;
}

}  // namespace prov
