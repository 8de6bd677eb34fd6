#include "core/engine/recorder.hpp"

#include <algorithm>

#include "core/engine/checkpoint.hpp"
#include "core/engine/workflow_record.hpp"
#include "core/state/workflow_store.hpp"
#include "core/support/datum_json.hpp"

namespace prov {

Recorder::Recorder(JournalWriter& journal, EventAppender& log, std::vector<Event> journaled, std::vector<Datum> undo,
                   CancelToken& cancel)
    : journal_(journal),
      log_(log),
      cancel_(cancel),
      events_(std::move(journaled)),
      undo_(std::move(undo)) {}

void Recorder::record(const Event& e, const Datum& undo, bool durable) {
  if (failed()) return;
  try {
    std::string line = encode_json(e.to_datum());  // the journal's record too, without undo
    const std::string with_undo = undo.is_null() ? std::string() : encode_json(journal_record(e, undo));
    uint64_t seq;
    {
      std::lock_guard l(m_);
      seq = journal_.append_encoded(undo.is_null() ? line : with_undo);
      events_.push_back(e);
      undo_.push_back(undo);
      unpublished_.emplace_back(seq, std::move(line));
    }
    if (!durable) return;
    journal_.wait_durable(seq);
    publish();
  } catch (const ResourceError& x) {
    fail(x);
  }
}

void Recorder::sync() {
  if (failed()) return;
  try {
    journal_.sync();
    publish();
  } catch (const ResourceError& x) {
    fail(x);
  }
}

void Recorder::publish() {
  std::lock_guard p(publish_m_);
  std::string lines;
  {
    std::lock_guard l(m_);
    const uint64_t durable = journal_.durable_seq();
    while (!unpublished_.empty() && unpublished_.front().first <= durable) {
      lines += unpublished_.front().second;
      lines += '\n';
      unpublished_.pop_front();
    }
  }
  if (!lines.empty()) log_.append_lines(lines);
}

void Recorder::publish_unlogged(size_t logged, const std::vector<Datum>& records) {
  if (std::any_of(records.begin(), records.end(), is_checkpoint)) return;
  std::string lines;
  std::lock_guard l(m_);
  for (size_t k = logged; k < events_.size(); ++k) {
    lines += encode_json(events_[k].to_datum());
    lines += '\n';
  }
  if (!lines.empty()) log_.append_lines(lines);
}

bool Recorder::failed() const {
  std::lock_guard l(m_);
  return failure_.has_value();
}

bool Recorder::may_act() {
  if (failed()) return false;
  try {
    journal_.check_claim();
    return true;
  } catch (const ResourceError& e) {
    fail(e);
    return false;
  }
}

std::optional<ResourceError> Recorder::failure() const {
  std::lock_guard l(m_);
  return failure_;
}

void Recorder::fail(const ResourceError& e) {
  {
    std::lock_guard l(m_);
    if (!failure_) failure_ = e;
  }
  cancel_.cancel();
}

void Recorder::checkpoint(const std::string& id, const Datum& header) {
  std::lock_guard l(m_);
  journal_.compact(header, {make_checkpoint(id, events_, undo_)});
}

}  // namespace prov
