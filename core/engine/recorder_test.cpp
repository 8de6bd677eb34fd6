#include "core/engine/recorder.hpp"

#include <atomic>
#include <catch2/catch.hpp>

#include "core/state/workflow_store.hpp"

using namespace prov;

namespace {

/// A journal in memory whose claim the test takes away.
class MemoryJournal final : public JournalWriter {
 public:
  std::atomic<bool> held{true};
  std::vector<std::string> records;
  uint64_t append_encoded(const std::string& json) override {
    check_claim();
    records.push_back(json);
    return records.size();
  }
  uint64_t durable_seq() const override { return records.size(); }
  void wait_durable(uint64_t) override {}
  void sync() override {}
  void compact(const Datum&, const std::vector<Datum>&) override {}
  void check_claim() const override {
    if (!held) throw ResourceError("provisioning::state::claim_lost", "this runner no longer holds workflow wf-t");
  }
};

class MemoryLog final : public EventAppender {
 public:
  std::string lines;
  void append_lines(const std::string& l) override { lines += l; }
};

Event started(const std::string& op) {
  Event e;
  e.time = now_utc();
  e.type = event_type::operation_started;
  e.workflow_id = "wf-t";
  e.operation = op;
  return e;
}

}  // namespace

TEST_CASE("recorder: a runner that lost its claim after journaling a start may not act: the loss latches, the run's cancel fires",
          "[recorder]") {
  MemoryJournal journal;
  MemoryLog log;
  CancelToken cancel;
  Recorder recorder(journal, log, {}, {}, cancel);
  recorder.record(started("a"), {}, true);
  REQUIRE(journal.records.size() == 1);
  CHECK(recorder.may_act());  // the claim is held: op a's process may start
  CHECK_FALSE(cancel.cancelled());

  // Paused between journaling b's start and starting it, past its lease: another runner took over.
  recorder.record(started("b"), {}, true);
  journal.held = false;
  CHECK_FALSE(recorder.may_act());
  CHECK(recorder.failed());
  REQUIRE(recorder.failure());
  CHECK(recorder.failure()->code() == "provisioning::state::claim_lost");
  CHECK(cancel.cancelled());  // running operations are stopped, nothing else starts
  // It stays latched: nothing more is recorded, even were the claim to look held again.
  journal.held = true;
  CHECK_FALSE(recorder.may_act());
  recorder.record(started("c"), {}, true);
  CHECK(journal.records.size() == 2);
}
