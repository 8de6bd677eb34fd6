#include "core/state/journal.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "core/support/crc32.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "no error";
}

Datum header() {
  return DatumRecord{{"format", "workflow"},
                     {"workflow_id", "wf-20261126-203000-1a2b3c"},
                     {"created", DateTime{"2026-11-26T20:30:00Z"}}};
}

std::vector<Datum> sample_records() {
  std::vector<Datum> records;
  for (int i = 0; i < 6; ++i)
    records.push_back(
        DatumRecord{{"type", i % 2 ? "operation_succeeded" : "operation_started"},
                    {"operation", "op-" + std::to_string(i)},
                    {"attempt", i},
                    {"duration", Duration{int64_t{i} * 1'000'000}},
                    {"undo", i == 3 ? Datum(DatumList{"rm", "-f", "/tmp/x y"}) : Datum()}});
  records.push_back(Datum("a bare string, with \"quotes\" and a\nnewline"));
  records.push_back(DatumRecord{{"$date", "looks like a tag"}});
  return records;
}

/// Offsets just past each line's newline: [0] ends the header, [k] ends record k.
std::vector<size_t> line_ends(const std::string& bytes) {
  std::vector<size_t> ends;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] == '\n') ends.push_back(i + 1);
  return ends;
}

std::string write_sample(const TempDir& dir, const std::string& name = "journal") {
  const std::string path = dir / name;
  Journal j = Journal::create(path, header());
  for (const Datum& r : sample_records()) j.append(r);
  j.sync();
  return path;
}

}  // namespace

TEST_CASE("journal: records appended read back equal, in order, after a versioned header",
          "[journal]") {
  TempDir dir("prov-journal");
  const mode_t old_umask = ::umask(0);  // the modes must not come from the umask
  const std::string path = write_sample(dir);
  ::umask(old_umask);

  const Journal::Recovery r = Journal::read(path);
  CHECK(r.header == header());
  CHECK(r.records == sample_records());
  CHECK_FALSE(r.tail_damaged);
  CHECK(r.tail_problem.empty());
  CHECK(r.valid_bytes == fs::file_size(path));
  CHECK(mode_of(path) == 0600);

  const std::string bytes = slurp(path);
  CHECK(bytes.rfind("prov-journal 1 ", 0) == 0);
  // The second line frames the first record: "<len> <crc32> <json>".
  const std::vector<size_t> ends = line_ends(bytes);
  REQUIRE(ends.size() == 1 + sample_records().size());
  const std::string first = bytes.substr(ends[0], ends[1] - ends[0] - 1);
  const std::string json = first.substr(first.find(' ', first.find(' ') + 1) + 1);
  CHECK(first.substr(0, first.find(' ')) == std::to_string(json.size()));
  CHECK(json.rfind(R"({"type":"operation_started","operation":"op-0")", 0) == 0);
  // Nothing but the journal is left in the directory.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("journal: create refuses an existing file and symlinks", "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = write_sample(dir);
  const std::string before = slurp(path);
  CHECK(error_code([&] { Journal::create(path, DatumRecord{}); }) ==
        "provisioning::state::journal_exists");
  CHECK(slurp(path) == before);

  fs::create_symlink(path, dir / "link");
  CHECK(error_code([&] { Journal::read(dir / "link"); }) == "provisioning::state::unsafe_path");
  CHECK(error_code([&] { Journal::open_for_append(dir / "link"); }) ==
        "provisioning::state::unsafe_path");
  CHECK(error_code([&] { Journal::create(dir / "link", header()); }) ==
        "provisioning::state::journal_exists");
  CHECK(error_code([&] { Journal::read(dir / "missing"); }) == "provisioning::state::no_journal");
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("journal: a crash at every byte keeps exactly the whole records", "[journal]") {
  TempDir dir("prov-journal");
  const std::string bytes = slurp(write_sample(dir));
  const std::vector<size_t> ends = line_ends(bytes);
  const std::vector<Datum> all = sample_records();
  const std::string cut = dir / "cut";

  for (size_t size = 0; size <= bytes.size(); ++size) {
    INFO("cut at byte " << size);
    spit(cut, bytes.substr(0, size));
    if (size < ends[0]) {
      CHECK(error_code([&] { Journal::read(cut); }) == "provisioning::state::corrupt_journal");
      continue;
    }
    size_t whole = 0;  // records whose every byte, newline included, is in the copy
    while (whole + 1 < ends.size() && ends[whole + 1] <= size) ++whole;
    const size_t valid = ends[whole];
    const bool damaged = size != valid;

    const Journal::Recovery r = Journal::read(cut);
    CHECK(r.header == header());
    CHECK(r.records == std::vector<Datum>(all.begin(), all.begin() + static_cast<long>(whole)));
    CHECK(r.valid_bytes == valid);
    CHECK(r.tail_damaged == damaged);
    CHECK(r.tail_problem == (damaged ? "truncated record at byte " + std::to_string(valid) : ""));

    // Appending refuses a damaged tail unless told to repair it; repairing keeps the cut-off
    // bytes aside, and what is appended next follows the whole records.
    if (damaged)
      CHECK(error_code([&] { Journal::open_for_append(cut); }) ==
            "provisioning::state::damaged_journal");
    {
      Journal::Opened o = Journal::open_for_append(cut, Journal::TailRepair::truncate);
      CHECK(o.recovery.records == r.records);
      CHECK(o.journal.size_bytes() == valid);
      CHECK(o.journal.append("after") == 1);
      o.journal.sync();
    }
    const Journal::Recovery after = Journal::read(cut);
    CHECK_FALSE(after.tail_damaged);
    REQUIRE(after.records.size() == whole + 1);
    CHECK(after.records.back() == Datum("after"));
    const std::string kept = cut + ".damaged-" + std::to_string(valid);
    if (damaged) {
      CHECK(slurp(kept) == bytes.substr(valid, size - valid));
      CHECK(mode_of(kept) == 0600);
      fs::remove(kept);
    } else {
      CHECK_FALSE(fs::exists(kept));
    }
  }
}

/// The message of the ResourceError `f` throws, or "no error".
std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code() + ": " + e.what();
  }
  return "no error";
}

TEST_CASE("journal: any flipped byte in a record is corruption: reading refuses naming the record and byte, and changes nothing",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string bytes = slurp(write_sample(dir));
  const std::vector<size_t> ends = line_ends(bytes);
  const std::vector<Datum> all = sample_records();
  const std::string bad = dir / "bad";

  for (const unsigned char mask : {0x01, 0x20, 0x80, 0xff}) {
    for (size_t at = ends[0]; at < bytes.size(); ++at) {
      INFO("byte " << at << " ^ " << int(mask));
      std::string copy = bytes;
      copy[at] = static_cast<char>(copy[at] ^ mask);
      spit(bad, copy);
      size_t k = 1;  // the record holding byte `at`, its newline included
      while (ends[k] <= at) ++k;
      const std::string msg = error_message([&] { Journal::read(bad); });
      CHECK(msg.rfind("provisioning::state::corrupt_journal: ", 0) == 0);
      CHECK(msg.find("record " + std::to_string(k) + " ") != std::string::npos);
      CHECK(msg.find("byte " + std::to_string(ends[k - 1])) != std::string::npos);
      CHECK(msg.find(bad) != std::string::npos);
      for (const auto repair : {Journal::TailRepair::refuse, Journal::TailRepair::truncate})
        CHECK(error_code([&] { Journal::open_for_append(bad, repair); }) ==
              "provisioning::state::corrupt_journal");
      CHECK(slurp(bad) == copy);  // refused, untouched
      if (mask != 0x01) continue;
      // The explicit repair keeps the records before the damaged one; the rest is reported lost
      // and kept aside.
      {
        Journal::Opened o = Journal::open_for_append(bad, Journal::TailRepair::cut_corruption);
        CHECK(o.recovery.corrupt);
        CHECK(o.recovery.records == std::vector<Datum>(all.begin(), all.begin() + static_cast<long>(k - 1)));
        CHECK(o.recovery.valid_bytes == ends[k - 1]);
        // A changed newline joins record k to the next one: one line fewer is lost.
        const size_t joined = bytes[at] == '\n' && k < all.size() ? 1 : 0;
        REQUIRE(o.recovery.lost.size() == all.size() - (k - 1) - joined);
        CHECK(o.recovery.lost.front().number == k);
        CHECK(o.recovery.lost.front().offset == ends[k - 1]);
        CHECK_FALSE(o.recovery.lost.front().problem.empty());
        for (size_t n = 1; n < o.recovery.lost.size(); ++n) {
          CHECK(o.recovery.lost[n].number == k + n);
          CHECK(o.recovery.lost[n].offset == ends[k - 1 + n + joined]);
          CHECK(o.recovery.lost[n].problem.empty());
          CHECK(o.recovery.lost[n].decoded == all[k - 1 + n + joined]);
        }
        o.journal.append("after");
        o.journal.sync();
      }
      const std::string kept = bad + ".damaged-" + std::to_string(ends[k - 1]);
      CHECK(slurp(kept) == copy.substr(ends[k - 1]));
      CHECK(mode_of(kept) == 0600);
      fs::remove(kept);
      std::vector<Datum> want(all.begin(), all.begin() + static_cast<long>(k - 1));
      want.push_back("after");
      CHECK(Journal::read(bad).records == want);
    }
  }

  // A flipped bit in the JSON of a middle record and of the last one: a checksum mismatch,
  // decoded anyway for the repair's report.
  for (const size_t k : {size_t{3}, all.size()}) {
    std::string copy = bytes;
    const size_t at = bytes.find('o', ends[k - 1] + 15);  // in a string: 'n', the JSON still decodes
    REQUIRE(at < ends[k]);
    copy[at] = static_cast<char>(copy[at] ^ 0x01);
    spit(bad, copy);
    const std::string msg = error_message([&] { Journal::read(bad); });
    const std::string more = all.size() - k == 0 ? "" : ", followed by " + std::to_string(all.size() - k) + " more records";
    CHECK(msg == "provisioning::state::corrupt_journal: the journal " + bad + " is corrupt: checksum mismatch at record " +
                     std::to_string(k) + " (byte " + std::to_string(ends[k - 1]) + ")" + more);
    Journal::Opened o = Journal::open_for_append(bad, Journal::TailRepair::cut_corruption);
    CHECK(o.recovery.lost.front().problem == "checksum mismatch");
    CHECK_FALSE(o.recovery.lost.front().decoded.is_null());
  }
}

TEST_CASE("journal: a tail that no interrupted append leaves is corruption; a prefix of one record is torn",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string bytes = slurp(write_sample(dir));
  const size_t end = bytes.size();
  const std::string path = dir / "j";
  const std::string json = R"({"time":"x"})";
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", crc32(json));
  const std::string len = std::to_string(json.size());
  struct Case {
    std::string tail;
    bool torn;
  };
  const std::vector<Case> cases = {
      {"5", true},
      {len + " 0bad", true},
      {"57 0badf00d {\"time\":", true},          // the record's start: its checksum is not known yet
      {len + " " + crc + " " + json, true},       // whole but for its newline
      {"57 0badf00d {\"ti" + std::string(40, '\0'), true},  // the rest never reached the disk
      {std::string(30, '\0'), true},
      {"5 0badf00d {\"time\":", false},           // more JSON than its length says
      {len + " 0badf00d " + json, false},         // every byte there, the checksum wrong
      {"x7 0badf00d {", false},
      {"057 0badf00d {", false},
      {"57 0bAdf00d {", false},
      {"57 0badf00d{", false},
  };
  for (const Case& c : cases) {
    INFO("tail " << c.tail);
    spit(path, bytes + c.tail);
    if (c.torn) {
      const Journal::Recovery r = Journal::read(path);
      CHECK(r.tail_damaged);
      CHECK_FALSE(r.corrupt);
      CHECK(r.tail_problem == "truncated record at byte " + std::to_string(end));
      CHECK(r.records == sample_records());
    } else {
      const std::string msg = error_message([&] { Journal::read(path); });
      CHECK(msg.find("corrupt: record " + std::to_string(sample_records().size() + 1) + " at byte " +
                     std::to_string(end) + " is cut short in a way no interrupted append leaves") !=
            std::string::npos);
    }
  }
}

TEST_CASE("journal: records a compaction wrote are never torn: a cut inside or after them is corruption",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = dir / "journal";
  const Datum checkpoint = DatumRecord{{"type", "checkpoint"}, {"events", DatumList{"a", "b", "c"}}};
  {
    Journal j = Journal::create(path, header());
    for (int i = 0; i < 5; ++i) j.append(DatumRecord{{"i", i}});
    j.compact(header(), {checkpoint, "second"});
    j.append("appended");
    j.sync();
  }
  const std::string bytes = slurp(path);
  const std::vector<size_t> ends = line_ends(bytes);
  REQUIRE(ends.size() == 4);
  CHECK(Journal::read(path).header == header());  // the compaction's count is not the caller's
  CHECK(bytes.find(R"("$compacted":2)") < ends[0]);
  const std::string cut = dir / "cut";
  for (size_t size = ends[0]; size <= bytes.size(); ++size) {
    INFO("cut at byte " << size);
    spit(cut, bytes.substr(0, size));
    if (size < ends[2]) {  // inside or right after the compacted records
      const size_t k = size < ends[1] ? 1 : 2;
      const std::string msg = error_message([&] { Journal::read(cut); });
      CHECK(msg.rfind("provisioning::state::corrupt_journal: ", 0) == 0);
      CHECK(msg.find("record " + std::to_string(k) + " at byte " + std::to_string(ends[k - 1])) != std::string::npos);
      CHECK(error_code([&] { Journal::open_for_append(cut, Journal::TailRepair::truncate); }) ==
            "provisioning::state::corrupt_journal");
      CHECK(slurp(cut) == bytes.substr(0, size));
    } else {  // the appended record may be torn
      const Journal::Recovery r = Journal::read(cut);
      CHECK(r.records.size() == (size == bytes.size() ? 3u : 2u));
      CHECK(r.tail_damaged == (size != ends[2] && size != bytes.size()));
    }
  }
  // Repairing a cut checkpoint keeps what is intact and rewrites the header's count, so that
  // the repaired journal reads whole.
  spit(cut, bytes.substr(0, ends[1] + 3));
  {
    Journal::Opened o = Journal::open_for_append(cut, Journal::TailRepair::cut_corruption);
    CHECK(o.recovery.records == std::vector<Datum>{checkpoint});
    REQUIRE(o.recovery.lost.size() == 1);
    CHECK(o.recovery.lost[0].number == 2);
    CHECK(o.recovery.lost[0].problem == "cut short");
    o.journal.append("repaired");
    o.journal.sync();
  }
  const Journal::Recovery r = Journal::read(cut);
  CHECK(r.header == header());
  CHECK(r.records == std::vector<Datum>{checkpoint, "repaired"});
  CHECK(slurp(cut + ".damaged-" + std::to_string(ends[1])) == bytes.substr(ends[1], 3));
}

TEST_CASE("journal: a damaged header or another format is a corrupt_journal error naming the file",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string bytes = slurp(write_sample(dir));
  const size_t header_end = line_ends(bytes)[0];
  const std::string bad = dir / "bad";
  auto message_of = [&](const std::string& content) -> std::string {
    spit(bad, content);
    try {
      Journal::read(bad);
    } catch (const ResourceError& e) {
      CHECK(e.code() == "provisioning::state::corrupt_journal");
      CHECK(std::string(e.what()).find(bad) != std::string::npos);
      return e.what();
    }
    return "no error";
  };
  for (size_t at = 0; at < header_end; ++at) {
    INFO("header byte " << at);
    std::string copy = bytes;
    copy[at] = static_cast<char>(copy[at] ^ 0x01);
    CHECK(message_of(copy) != "no error");
  }
  CHECK(message_of("").find("it is empty") != std::string::npos);
  CHECK(message_of("prov-jour").find("incomplete") != std::string::npos);
  CHECK(message_of("{\"not\":\"a journal\"}\n").find("not a workflow journal") !=
        std::string::npos);
  std::string v2 = bytes;
  v2[std::string("prov-journal ").size()] = '2';
  CHECK(message_of(v2).find("has format version 2; this build reads version 1") !=
        std::string::npos);
  CHECK(message_of("prov-journal 1 2 00000000 {}\n").find("fails its checksum") !=
        std::string::npos);
  CHECK(message_of("prov-journal 1 02 2b93f5a5 {}\n").find("malformed") != std::string::npos);
}

TEST_CASE("journal: concurrent durable appends share fdatasyncs (group commit)", "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = dir / "journal";
  constexpr int kThreads = 8, kEach = 500;
  uint64_t syncs = 0;
  {
    Journal j = Journal::create(path, header());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const uint64_t seq = j.append(DatumRecord{{"thread", t}, {"i", i}});
          j.wait_durable(seq);
        }
      });
    for (auto& th : threads) th.join();
    syncs = j.sync_count();
    CHECK(j.append("last") == kThreads * kEach + 1);
  }
  INFO("fdatasync calls: " << syncs << " for " << kThreads * kEach << " records");
  CHECK(syncs >= 1);
  CHECK(syncs < kThreads * kEach / 3);

  const Journal::Recovery r = Journal::read(path);
  CHECK_FALSE(r.tail_damaged);
  REQUIRE(r.records.size() == kThreads * kEach + 1);  // the destructor synced "last"
  std::vector<int> next(kThreads, 0);
  for (size_t n = 0; n + 1 < r.records.size(); ++n) {
    const auto t = std::get<int64_t>(r.records[n].find("thread")->v);
    const auto i = std::get<int64_t>(r.records[n].find("i")->v);
    REQUIRE(i == next[static_cast<size_t>(t)]);  // each thread's records in its order
    ++next[static_cast<size_t>(t)];
  }
  CHECK(next == std::vector<int>(kThreads, kEach));
}

TEST_CASE("journal: wait_durable and sync of what is already durable do not sync again",
          "[journal]") {
  TempDir dir("prov-journal");
  Journal j = Journal::create(dir / "journal", header());
  j.sync();
  CHECK(j.sync_count() == 0);
  const uint64_t a = j.append(1), b = j.append(2);
  CHECK(b == a + 1);
  j.wait_durable(a);
  CHECK(j.sync_count() == 1);
  j.wait_durable(b);  // one sync covered both
  j.sync();
  CHECK(j.sync_count() == 1);
  CHECK_THROWS_AS(j.wait_durable(b + 1), std::invalid_argument);
}

TEST_CASE("journal: compaction replaces the records, keeps 0600, and appends continue",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = dir / "journal";
  const Datum checkpoint = DatumRecord{{"type", "checkpoint"},
                                       {"workflow_id", "wf-20261126-203000-1a2b3c"},
                                       {"step", 3},
                                       {"completed_operations", DatumList{"a", "b", "c"}},
                                       {"current_state", DatumRecord{{"a", "succeeded"}}},
                                       {"metadata", DatumRecord{}},
                                       {"timestamp", DateTime{"2026-11-26T20:31:00Z"}}};
  SECTION("of a closed journal") {
    write_sample(dir);
    ::chmod(path.c_str(), 0644);  // compaction writes a new file, whatever the old one was
    Journal::compact(path, header(), {checkpoint, "pending"});
    const Journal::Recovery r = Journal::read(path);
    CHECK(r.header == header());
    CHECK(r.records == std::vector<Datum>{checkpoint, "pending"});
    CHECK(mode_of(path) == 0600);
  }
  SECTION("of an open journal") {
    Journal j = Journal::create(path, header());
    for (int i = 0; i < 50; ++i) j.append(DatumRecord{{"i", i}});
    const uint64_t grown = j.size_bytes();
    j.compact(header(), {checkpoint});
    CHECK(j.size_bytes() < grown);
    CHECK(j.size_bytes() == fs::file_size(path));
    const uint64_t seq = j.append("after");
    CHECK(seq == 51);
    j.wait_durable(seq);
    CHECK(Journal::read(path).records == std::vector<Datum>{checkpoint, "after"});
    CHECK(mode_of(path) == 0600);
  }
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("journal: a failed append leaves whole records and fails every later call", "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = dir / "journal";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A file size limit makes the second record's write stop part way (EFBIG).
    int status = 0;
    try {
      Journal j = Journal::create(path, header());
      j.append("first");
      ::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{j.size_bytes() + 20, j.size_bytes() + 20};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      try {
        j.append(std::string(200, 'x'));
        status = 10;
      } catch (const ResourceError& e) {
        if (e.code() != "provisioning::state::io") status = 11;
      }
      try {
        j.append("third");
        status = 12;
      } catch (const ResourceError&) {
      }
      try {
        j.sync();
        status = 13;
      } catch (const ResourceError&) {
      }
    } catch (...) {
      status = 14;
    }
    ::_exit(status);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const Journal::Recovery r = Journal::read(path);
  CHECK_FALSE(r.tail_damaged);
  CHECK(r.records == std::vector<Datum>{"first"});
}

TEST_CASE("journal: append_encoded writes the same record as append; durable_seq follows syncs",
          "[journal]") {
  TempDir dir("prov-journal");
  const std::string path = dir / "journal";
  {
    Journal j = Journal::create(path, header());
    const Datum record(DatumRecord{{"type", "operation_started"}, {"attempt", int64_t{1}}});
    CHECK(j.durable_seq() == 0);
    const uint64_t a = j.append(record);
    const uint64_t b = j.append_encoded(encode_json(record));
    CHECK(b == a + 1);
    CHECK(j.durable_seq() == 0);
    j.wait_durable(a);
    CHECK(j.durable_seq() == b);  // one fdatasync covered both
  }
  const std::string text = slurp(path);
  const size_t first = text.find('\n') + 1, second = text.find('\n', first) + 1;
  CHECK(text.substr(first, second - first) == text.substr(second));
  const Journal::Recovery r = Journal::read(path);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0] == r.records[1]);
}
