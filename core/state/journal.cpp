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

constexpr std::string_view kCompacted = "$compacted";

std::string header_line(const Datum& header) {
  return std::string(kMagic) + std::to_string(kJournalVersion) + " " + frame(encode_json(header));
}

/// `header` as a compaction writing `records` records stores it.
Datum compacted_header(Datum header, size_t records) {
  if (header.is_record()) header.set(std::string(kCompacted), Datum(static_cast<int64_t>(records)));
  return header;
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

/// Whether `tail` (the bytes after the last newline) can be what an append interrupted by a
/// crash left: a prefix of "<len> <crc32> <json>" holding at most `len` JSON bytes (all of
/// them only with a matching checksum), then perhaps NUL bytes.
bool torn_prefix(std::string_view tail) {
  while (!tail.empty() && tail.back() == '\0') tail.remove_suffix(1);
  size_t i = 0;
  uint64_t len = 0;
  while (i < tail.size() && i < 12 && tail[i] >= '0' && tail[i] <= '9')
    len = len * 10 + uint64_t(tail[i++] - '0');
  if (i > 1 && tail[0] == '0') return false;
  if (i == tail.size()) return i < 12;
  if (i == 0 || tail[i] != ' ') return false;
  ++i;
  uint32_t crc = 0;
  size_t h = 0;
  for (; h < 8 && i + h < tail.size(); ++h) {
    const int d = hex_digit(tail[i + h]);
    if (d < 0) return false;
    crc = crc << 4 | uint32_t(d);
  }
  if (i + h == tail.size()) return true;
  if (tail[i + 8] != ' ') return false;
  const std::string_view payload = tail.substr(i + 9);
  if (payload.size() < len) return true;
  return payload.size() == len && crc32(payload) == crc;
}

/// What can be made of the line at `at` (to its newline, or the end): for a repair's report.
Journal::LostRecord lost_record(std::string_view content, size_t at, uint64_t number) {
  Journal::LostRecord l;
  l.number = number;
  l.offset = at;
  const size_t end = content.find('\n', at);
  const bool whole = end != std::string_view::npos;
  const std::string_view line = content.substr(at, whole ? end - at : std::string_view::npos);
  l.size = line.size() + (whole ? 1 : 0);
  std::string_view payload;
  const Frame f = unframe(line, payload);
  if (f == Frame::malformed) {
    // Best effort: the JSON after the second space, if the line has that shape.
    const size_t a = line.find(' ');
    const size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    payload = b == std::string_view::npos ? std::string_view() : line.substr(b + 1);
  }
  if (!whole) l.problem = "cut short";
  else if (f == Frame::malformed) l.problem = "malformed";
  else if (f == Frame::checksum) l.problem = "checksum mismatch";
  try {
    if (!payload.empty()) l.decoded = decode_json(payload);
  } catch (const ResourceError& e) {
    if (l.problem.empty()) l.problem = std::string("undecodable: ") + e.what();
  }
  return l;
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
  uint64_t compacted = 0;  // records the last compaction wrote whole
  if (r.header.is_record()) {
    auto& fields = r.header.record();
    for (auto it = fields.begin(); it != fields.end(); ++it)
      if (it->first == kCompacted) {
        if (const auto* n = std::get_if<int64_t>(&it->second.v); n && *n > 0) compacted = uint64_t(*n);
        fields.erase(it);
        break;
      }
  }
  size_t at = nl + 1;
  r.valid_bytes = at;
  uint64_t k = 1;
  for (; at < content.size(); ++k) {
    const std::string where = " at byte " + std::to_string(at);
    const std::string record = "record " + std::to_string(k);
    const size_t end = content.find('\n', at);
    if (end == std::string_view::npos) {
      if (!torn_prefix(content.substr(at))) {
        r.corrupt = true;
        r.tail_problem = record + where +
                         " is cut short in a way no interrupted append leaves (its length, "
                         "checksum or bytes do not fit)";
      } else if (k <= compacted) {
        r.corrupt = true;
        r.tail_problem = record + where + " is cut short, but the compaction that wrote it wrote " +
                         std::to_string(compacted) + " whole records";
      } else {
        r.tail_problem = "truncated record" + where;
      }
    } else {
      r.corrupt = true;  // a whole line: no interrupted append leaves one damaged
      switch (unframe(content.substr(at, end - at), payload)) {
        case Frame::malformed:
          r.tail_problem = "malformed " + record + where;
          break;
        case Frame::checksum:
          r.tail_problem = "checksum mismatch at " + record + " (byte " + std::to_string(at) + ")";
          break;
        case Frame::ok:
          try {
            r.records.push_back(decode_json(payload));
            r.corrupt = false;
          } catch (const ResourceError& e) {
            r.tail_problem = "undecodable " + record + where + ": " + e.what();
          }
      }
    }
    if (!r.tail_problem.empty()) break;
    at = end + 1;
    r.valid_bytes = at;
  }
  if (r.tail_problem.empty() && r.records.size() < compacted) {
    r.corrupt = true;
    r.tail_problem = "record " + std::to_string(k) + " at byte " + std::to_string(at) +
                     " is missing: the journal ends after " + std::to_string(r.records.size()) +
                     " records, but its compaction wrote " + std::to_string(compacted);
  }
  if (r.tail_problem.empty()) return r;
  r.tail_damaged = true;
  for (size_t pos = r.valid_bytes, n = k; pos < content.size(); ++n) {
    r.lost.push_back(lost_record(content, pos, n));
    pos += r.lost.back().size;
  }
  if (r.corrupt && r.lost.size() > 1)
    r.tail_problem += ", followed by " + std::to_string(r.lost.size() - 1) + " more record" +
                      (r.lost.size() > 2 ? "s" : "");
  return r;
}

/// The error for a corrupt journal: nothing was changed, and how to repair it.
ResourceError corrupt_records(const std::string& path, const Journal::Recovery& r) {
  const std::string kept = std::to_string(r.records.size());
  return ResourceError(
      "provisioning::state::corrupt_journal", "the journal " + path + " is corrupt: " + r.tail_problem,
      "no crash leaves this (the file was changed after it was written); nothing was changed. "
      "`prov workflow repair <id>` keeps the " +
          kept + " intact record" + (r.records.size() == 1 ? "" : "s") +
          " before the damage, cuts the rest off (kept beside the journal) and reports what is lost");
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

/// A compacted journal: `records` all written at once, which its header says.
std::string journal_text(const Datum& header, const std::vector<Datum>& records) {
  std::string text = header_line(compacted_header(header, records.size()));
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
  if (r.corrupt && repair != TailRepair::cut_corruption) throw corrupt_records(path, r);
  if (r.corrupt) {
    // Rewritten whole rather than cut: a header whose compaction count the kept records fall
    // short of must change too.
    const std::string kept = path + ".damaged-" + std::to_string(r.valid_bytes);
    if (r.valid_bytes < content.size()) {
      UniqueFd copy(
          ::open(kept.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!copy) throw io_error("create", kept, errno);
      write_all(copy.get(), std::string_view(content).substr(r.valid_bytes), kept);
      if (::fsync(copy.get()) != 0) throw io_error("sync", kept, errno);
    }
    const std::string text = journal_text(r.header, r.records);
    fd = write_and_install(path, text, [&](const std::string& tmp) { rename_over(tmp, path); });
    sync_directory(parent_dir(path));
    auto s = std::make_unique<State>();
    s->path = path;
    s->fd = std::move(fd);
    s->size = text.size();
    return Opened{Journal(std::move(s)), std::move(r)};
  }
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
  Recovery r = parse(read_all(fd.get(), path), path);
  if (r.corrupt) throw corrupt_records(path, r);
  return r;
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
