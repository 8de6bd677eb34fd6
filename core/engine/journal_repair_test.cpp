#include "core/engine/journal_repair.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/engine/workflow_record.hpp"
#include "core/events/event_log.hpp"
#include "core/state/file_store.hpp"
#include "core/state/lock.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Event event(const std::string& id, const char* type, std::optional<std::string> op = std::nullopt) {
  Event e;
  e.time = now_utc();
  e.workflow_id = id;
  e.type = type;
  e.operation = std::move(op);
  return e;
}

}  // namespace

TEST_CASE("journal repair: keeps the intact prefix, reports the lost records and transitions, journals itself",
          "[journal]") {
  TempDir ws("prov-repair");
  FileStore store(ws / ".provisioning", ws.path());
  const StateDir& state = store.state_dir();
  WorkflowSubmission sub;
  sub.workspace = ws.path();
  sub.origin = "test";
  sub.document = Datum(DatumRecord{{"name", Datum("t")}, {"operations", Datum(DatumList{})}});
  const std::string id = create_workflow(store, sub);
  const std::string path = state.journal_path(id);
  {
    Journal j = Journal::open_for_append(path).journal;
    j.append(journal_record(event(id, event_type::workflow_started), {}));
    j.append(journal_record(event(id, event_type::operation_started, "a"), {}));
    j.append(journal_record(event(id, event_type::operation_succeeded, "a"), {}));
    j.sync();
  }
  std::string bytes = slurp(path);
  const size_t second = bytes.find('\n', bytes.find('\n') + 1) + 1;  // record 2's first byte
  bytes[second + 20] = static_cast<char>(bytes[second + 20] ^ 0x01);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_history(store, id);
    FAIL("a corrupt journal was read");
  } catch (const ResourceError& e) {
    CHECK(e.code() == "provisioning::state::corrupt_journal");
  }

  {
    FileLock runner = state.lock_runner(id);
    try {
      repair_journal(store, id);
      FAIL("repaired under a runner");
    } catch (const ResourceError& e) {
      CHECK(e.code() == "provisioning::state::locked");
    }
    CHECK(slurp(path) == bytes);
  }

  const JournalRepair r = repair_journal(store, id);
  CHECK(r.repaired);
  CHECK(r.kept_records == 1);
  CHECK(r.byte == second);
  CHECK(r.problem.find("record 2") != std::string::npos);
  REQUIRE(r.lost.size() == 2);
  CHECK(r.lost[0].number == 2);
  CHECK_FALSE(r.lost[0].problem.empty());
  CHECK(r.lost[1].number == 3);
  CHECK(r.lost[1].problem.empty());
  REQUIRE_FALSE(r.lost_transitions.empty());
  CHECK(r.lost_transitions.back().type == event_type::operation_succeeded);
  CHECK(r.damaged_file == path + ".damaged-" + std::to_string(second));
  CHECK(slurp(r.damaged_file) == bytes.substr(second));

  const WorkflowHistory h = read_history(store, id);
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].type == event_type::workflow_started);
  CHECK(h.events[1].type == event_type::journal_repaired);
  REQUIRE(h.events[1].details);
  CHECK(h.events[1].details->find("kept_records")->v == Datum(int64_t{1}).v);
  const auto logged = read_event_log(state.events_path(id));
  REQUIRE_FALSE(logged.empty());
  CHECK(logged.back().type == event_type::journal_repaired);
  CHECK(workflow_status(store, id).status == "interrupted");

  const JournalRepair again = repair_journal(store, id);
  CHECK_FALSE(again.repaired);
  CHECK(read_history(store, id).events.size() == 2);
}
