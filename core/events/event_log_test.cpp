#include "core/events/event_log.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <fstream>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

TEST_CASE("events round-trip through the log with their types intact", "[events]") {
  TempDir dir;
  std::string path = dir / "events.jsonl";
  Event e;
  e.time = DateTime{"2026-11-26T20:00:00.000000001+00:00"};
  e.workflow_id = "wf-1";
  e.type = event_type::operation_succeeded;
  e.operation = "build";
  e.attempt = 2;
  e.exit_code = 0;
  e.duration = Duration{1500000};
  e.message = "done \"quoted\"\nnewline";
  e.details = Datum(DatumRecord{{"summary", Datum(DatumRecord{{"n", Datum(3)}})}});
  {
    EventLogWriter w(path);
    w.append(e);
    Event s = e;
    s.type = event_type::workflow_completed;
    w.append(s);
  }
  struct stat st{};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto events = read_event_log(path);
  REQUIRE(events.size() == 2);
  CHECK(events[0].time == e.time);
  CHECK(events[0].operation == "build");
  CHECK(events[0].attempt == 2);
  CHECK(events[0].duration->nanos == 2000000);  // a measurement, to the millisecond
  CHECK(events[0].message == e.message);
  CHECK(events[0].to_datum() == e.to_datum());
  CHECK(events[1].type == "workflow_completed");
}

TEST_CASE("a reader follows a growing log and waits for partial lines", "[events]") {
  TempDir dir;
  std::string path = dir / "events.jsonl";
  EventLogReader r(path);
  CHECK(r.poll().empty());  // no file yet
  EventLogWriter w(path);
  Event e;
  e.time = now_utc();
  e.workflow_id = "wf";
  e.type = "workflow_started";
  w.append(e);
  CHECK(r.poll().size() == 1);
  CHECK(r.poll().empty());
  {
    std::ofstream f(path, std::ios::app);
    f << R"({"time":{"$date":"2026-01-01T00:00:00+00:00"},"workflow_id":"wf","ty)";
  }
  CHECK(r.poll().empty());
  {
    std::ofstream f(path, std::ios::app);
    f << R"(pe":"operation_started"})" << "\n";
  }
  auto more = r.poll();
  REQUIRE(more.size() == 1);
  CHECK(more[0].type == "operation_started");
}

TEST_CASE("a malformed line is an error naming the line", "[events]") {
  TempDir dir;
  std::string path = dir.write("events.jsonl", "{\"type\":\"x\",\"workflow_id\":\"w\",\"time\":\"t\"}\nnot json\n");
  CHECK_THROWS_WITH(read_event_log(path), Catch::Contains("line 2"));
}

TEST_CASE("event log: a torn last line is cut off when a writer opens, so the log reads on", "[events]") {
  TempDir dir;
  std::string path = dir / "events.jsonl";
  Event e;
  e.time = DateTime{"2026-11-26T20:00:00Z"};
  e.workflow_id = "wf-1";
  e.type = event_type::workflow_started;
  { EventLogWriter(path).append(e); }
  {
    std::ofstream torn(path, std::ios::app);
    torn << "{\"time\":\"2026-11-26T20:00:01Z\",\"workflow_";  // a crash or a full disk in mid-line
  }
  CHECK(read_event_log(path).size() == 1);  // readers wait for a partial line's end
  {
    EventLogWriter w(path);
    e.type = event_type::workflow_completed;
    w.append(e);
  }
  auto events = read_event_log(path);
  REQUIRE(events.size() == 2);
  CHECK(events[1].type == event_type::workflow_completed);
}

TEST_CASE("event log: a writer on a read-only folder fails with a code naming the path", "[events]") {
  if (::geteuid() == 0) return;  // root writes anywhere
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0500) == 0);
  std::string path = dir / "events.jsonl";
  try {
    EventLogWriter w(path);
    FAIL("opened a log in a read-only folder");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::state::io");
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
  REQUIRE(::chmod(dir.path().c_str(), 0700) == 0);
}
