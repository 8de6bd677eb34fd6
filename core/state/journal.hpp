#pragma once
/// A workflow's journal: an append-only file of Datum records behind a versioned header, the
/// durable truth from which a workflow's state is rebuilt after a crash. Modelled on ninja's
/// build log: appended while running, compacted (rewritten whole, as one checkpoint) when the
/// run has ended.
///
/// Format (text, one line each):
///   prov-journal <version> <len> <crc32> <header JSON>\n
///   <len> <crc32> <record JSON>\n            (repeated)
/// `len` is the JSON's byte count in decimal without leading zeros, `crc32` its CRC-32 as 8
/// lowercase hex digits; the JSON is datum_json's, which never holds a raw newline. A line is
/// whole only with its newline. A compacted journal's header record carries `$compacted`: how
/// many records the compaction wrote (readers never see that field; a journal compacted by an
/// older build has none, and its records are then judged as appended ones).
///
/// Torn or corrupt. Records are appended one write() each, so a crash (a killed process, a
/// power loss) can leave only a prefix of what was appended: whole lines, then part of one
/// line. Compaction replaces the file by rename, so it leaves the old file or the new one, never
/// part of it. Hence:
///   - a torn tail is the bytes after the last newline when they are a prefix of one record's
///     line (`<digits>[ <hex>[ <json>]]` with at most `len` JSON bytes; exactly `len` only
///     with a matching checksum), possibly followed by NUL bytes (a file system may show an
///     extension whose data never reached the disk as zeros), and lie after the records the
///     last compaction wrote. It is an append a crash interrupted: reported, and cut off (kept
///     in `<path>.damaged-<offset>`) when the journal is opened to append;
///   - anything else is corruption: a whole line (with its newline) that is malformed, fails its
///     checksum or does not decode, wherever it is, even last; a tail that no interrupted append
///     leaves (more JSON than its length, a bad checksum over all `len` bytes, a non-digit
///     length); fewer records than the last compaction wrote (a torn or missing checkpoint).
///     The disk or something other than this journal changed the file. Reading refuses it with
///     `provisioning::state::corrupt_journal` naming the record and its byte offset, and changes
///     nothing; only an explicit repair (TailRepair::cut_corruption, `prov workflow repair`)
///     cuts it off, losing the records from the damaged one on.
/// A cut exactly at a line boundary after the compacted records leaves a shorter, valid journal:
/// it cannot be told from one whose last appends never happened.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// The format version this build writes and reads.
inline constexpr int kJournalVersion = 1;

/// An open journal that records are appended to. Appending is thread-safe; durability is
/// asked for separately (wait_durable) so that concurrent appenders share one fdatasync.
/// A journal has one writer at a time (the workflow's runner lock); readers need no lock.
class Journal {
 public:
  /// A record at or after the damage: what a repair loses.
  struct LostRecord {
    uint64_t number = 0;  ///< the record's position, from 1 (the header is not counted)
    uint64_t offset = 0;  ///< its first byte in the file
    uint64_t size = 0;    ///< its bytes, newline included when there is one
    /// Why it is damaged ("checksum mismatch", "malformed", "cut short", "undecodable: …");
    /// empty when it is whole and intact.
    std::string problem;
    /// Its JSON decoded when that works, even with a failed checksum (a byte of it may then
    /// be wrong); null otherwise.
    Datum decoded;
  };
  /// What reading a journal found.
  struct Recovery {
    Datum header;  ///< as given to create() or compact()
    std::vector<Datum> records;  ///< the whole, intact records before any damage, in order
    bool tail_damaged = false;   ///< bytes after `valid_bytes` are not whole, intact records
    /// The damage is corruption, not a torn tail (see the file's comment); only open_for_append
    /// with TailRepair::cut_corruption returns such a Recovery, every other reader throws.
    bool corrupt = false;
    /// Why, when damaged: "truncated record at byte N" (torn), "checksum mismatch at record K
    /// (byte N)", "malformed record K at byte N", "undecodable record K at byte N: …",
    /// "record K at byte N is cut short, …" (K from 1), plus for corruption how many
    /// records follow the damaged one.
    std::string tail_problem;
    uint64_t valid_bytes = 0;  ///< the intact prefix: header line and `records`
    std::vector<LostRecord> lost;  ///< from the damaged record to the end of the file
  };
  /// What to do when open_for_append finds damage.
  enum class TailRepair {
    refuse,    ///< throw ResourceError `provisioning::state::damaged_journal` for a torn tail
    truncate,  ///< keep a torn tail's bytes in `<path>.damaged-<valid_bytes>`, cut them off
    /// as truncate, for corruption too: the records from the damaged one on are lost (an
    /// explicit repair only)
    cut_corruption,
  };
  struct Opened;

  /// Creates the journal at `path` with `header`: the file appears whole (written to a
  /// temporary file, fsynced, linked into place, directory fsynced), mode 0600. Throws
  /// ResourceError `provisioning::state::journal_exists` when something is already at `path`.
  static Journal create(const std::string& path, const Datum& header);

  /// Reads the journal at `path` and opens it to append after its last intact record, which
  /// is then durable (synced) like every record before it. A damaged tail is refused or cut
  /// off as `repair` says; `recovery` reports it either way. Corruption throws ResourceError
  /// `provisioning::state::corrupt_journal` and leaves the file as it is, unless `repair` is
  /// cut_corruption.
  static Opened open_for_append(const std::string& path, TailRepair repair = TailRepair::refuse);

  /// Reads the journal at `path` without locking it. A torn tail is reported, never
  /// accepted (for a journal being written, a truncated last record can be an append in
  /// progress). Throws ResourceError `provisioning::state::corrupt_journal` naming the file
  /// when the header is damaged or not a journal of kJournalVersion, or naming the record and
  /// its byte offset when the journal is corrupt (above),
  /// `provisioning::state::no_journal` when nothing is there, `provisioning::state::unsafe_path`
  /// for a symlink.
  static Recovery read(const std::string& path);

  /// Replaces the journal at `path` with one holding `header` and `records`: written to a
  /// temporary file (0600), fsynced, renamed over `path`, directory fsynced. No Journal may be
  /// open on `path` (use the member compact() for that).
  static void compact(const std::string& path, const Datum& header,
                      const std::vector<Datum>& records);

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  /// Syncs what was appended (errors ignored) and closes the file.
  ~Journal();

  /// Writes `record` to the file (whole, after every earlier one) and returns its sequence
  /// number: 1 for the first append to this object, then 2, 3, … Surviving a killed process
  /// needs only this; surviving a power loss needs wait_durable(). Thread-safe.
  uint64_t append(const Datum& record);

  /// append() of a record already encoded with encode_json (datum_json's, no raw newline), so
  /// that a caller writing the same JSON elsewhere encodes it once.
  uint64_t append_encoded(const std::string& json);

  /// The sequence number up to which records are on disk (0: none yet).
  uint64_t durable_seq() const;

  /// Returns once record `seq` (and every earlier one) is on disk. Concurrent callers share
  /// one fdatasync: one of them syncs everything written so far while the others wait for it.
  /// After a failed write or sync every call throws ResourceError `provisioning::state::io`.
  void wait_durable(uint64_t seq);

  /// wait_durable() for everything appended so far.
  void sync();

  /// compact() of this open journal: appends wait while the file is replaced; everything
  /// appended before is durable afterwards and sequence numbers continue. `records` must
  /// stand for every record appended so far: the caller keeps appends out between taking
  /// its snapshot and this call (one mutex around both), or they are lost from the file.
  void compact(const Datum& header, const std::vector<Datum>& records);

  const std::string& path() const;
  /// Bytes in the file.
  uint64_t size_bytes() const;
  /// fdatasync calls made by this object so far.
  uint64_t sync_count() const;

 private:
  struct State;
  explicit Journal(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;  ///< null only in a moved-from Journal
};

/// An opened journal and what was in it.
struct Journal::Opened {
  Journal journal;
  Recovery recovery;
};

}  // namespace prov
