#include "core/infra/apply_record.hpp"

#include <map>

#include "core/engine/workflow_record.hpp"
#include "core/infra/infra_refs.hpp"
#include "core/providers/provider.hpp"
#include "core/support/error.hpp"

namespace prov {

namespace {

std::string text_of(const Datum* d) { return d && d->is_string() ? d->str() : std::string(); }

/// `v` with each `{{ops.<op>.out.<path>}}` (what infra_workflow left for the engine) replaced by
/// that path of the record `out` holds for <op>: the spec as the run applied it. A placeholder
/// whose value is unknown stays.
Datum applied_value(const Datum& v, const std::map<std::string, Datum>& out) {
  if (v.is_list()) {
    DatumList l;
    for (const Datum& x : v.list()) l.push_back(applied_value(x, out));
    return l;
  }
  if (v.is_record()) {
    DatumRecord r;
    for (const auto& [k, x] : v.record()) r.emplace_back(k, applied_value(x, out));
    return r;
  }
  if (!v.is_string()) return v;
  const std::string& s = v.str();
  std::string text;
  size_t copied = 0, pos = 0;
  while ((pos = s.find("{{ops.", pos)) != std::string::npos) {
    const size_t close = s.find("}}", pos);
    if (close == std::string::npos) break;
    const std::string inner = s.substr(pos + 6, close - pos - 6);  // <op>.out.<path>
    const size_t mark = inner.find(".out.");
    const Datum* found = nullptr;
    if (mark != std::string::npos) {
      auto it = out.find(inner.substr(0, mark));
      std::vector<std::string> path;
      for (size_t b = mark + 5, e; b <= inner.size(); b = e + 1) {
        e = inner.find('.', b);
        if (e == std::string::npos) e = inner.size();
        path.push_back(inner.substr(b, e - b));
      }
      if (it != out.end()) found = datum_at(it->second, path);
    }
    if (found && pos == 0 && close + 2 == s.size()) return *found;
    text += s.substr(copied, pos - copied) + (found ? to_display(*found) : s.substr(pos, close + 2 - pos));
    copied = pos = close + 2;
  }
  return copied == 0 ? v : Datum(text + s.substr(copied));
}

}  // namespace

std::vector<std::string> record_infra_results(WorkflowStore& store, const Datum& pending,
                                              const std::vector<Event>& events, const LookServer& look) {
  std::vector<std::string> touched;
  std::map<std::string, Datum> out;  // op id -> the record of the server it created
  std::vector<ManagedServer> created;
  const Datum* ops = pending.find("ops");
  for (const Event& e : events) {
    if (!e.resource || !e.operation) continue;
    const std::string id = text_of(e.resource->find("id"));
    const std::string provider = text_of(e.resource->find("provider"));
    if (e.type == event_type::resource_created) {
      const Datum* op = ops ? ops->find(*e.operation) : nullptr;
      if (!op) continue;
      ManagedServer m;
      m.name = text_of(op->find("name"));
      m.provider = provider;
      m.id = id;
      if (const Datum* deps = op->find("depends_on"); deps && deps->is_list())
        for (const Datum& d : deps->list()) m.depends_on.push_back(text_of(&d));
      if (const Datum* spec = op->find("spec")) m.spec = *spec;
      if (look) m.last = look(provider, id);
      out[*e.operation] = m.last;
      store.put_managed_server(m);
      created.push_back(m);
      touched.push_back(m.name);
    } else if (e.type == event_type::resource_deleted) {
      for (const ManagedServer& m : store.managed_servers())
        if (m.id == id && m.provider == provider) {
          store.forget_managed_server(m.name);
          touched.push_back(m.name);
        }
    }
  }
  for (ManagedServer& m : created) {
    Datum spec = applied_value(m.spec, out);
    // Known now: recorded as a provider takes it, as plan records a spec known in advance
    // ([sleep 600] holds an int; a command is text), so that the next plan compares like with like.
    try {
      spec = ServerSpec::from_datum(spec, "servers." + m.name).to_datum();
    } catch (const Error&) {
      // A placeholder still unresolved keeps it from being one: kept as it is.
    }
    if (spec == m.spec) continue;
    m.spec = std::move(spec);
    for (const ManagedServer& still : store.managed_servers())
      if (still.name == m.name && still.id == m.id) store.put_managed_server(m);
  }
  return touched;
}

PendingApply settle_pending_apply(WorkflowStore& store, const LookServer& look, std::string* workflow) {
  std::optional<Datum> pending = store.pending_apply();
  if (!pending) return PendingApply::none;
  const std::string id = text_of(pending->find("workflow_id"));
  if (workflow) *workflow = id;
  if (id.empty()) {  // recorded, never submitted (a crash in between): nothing ran
    store.set_pending_apply(std::nullopt);
    return PendingApply::none;
  }
  if (store.claim_holder(id)) return PendingApply::running;
  WorkflowHistory h = read_history(store, id);
  const std::string status = workflow_status(h, false).status;
  if (status == "interrupted" || status == "pending") return PendingApply::interrupted;
  record_infra_results(store, *pending, h.events, look);
  store.set_pending_apply(std::nullopt);
  return PendingApply::recorded;
}

std::unique_ptr<InfraLock> acquire_infra(WorkflowStore& store, std::chrono::milliseconds timeout,
                                         const std::string& purpose, const LookServer& look) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::unique_ptr<InfraLock> lock = store.lock_infra(std::max(left, std::chrono::milliseconds(0)), purpose);
    std::string wf;
    const PendingApply st = settle_pending_apply(store, look, &wf);
    if (st == PendingApply::none || st == PendingApply::recorded) return lock;
    lock->release();
    if (st == PendingApply::interrupted)
      throw ResourceError(
          "provisioning::infra::interrupted",
          "the infrastructure of this workspace has an unfinished apply: workflow " + wf + " was interrupted",
          "`prov workflow resume " + wf + "` finishes it, `prov workflow rollback " + wf +
              "` undoes it; either way it is recorded then");
    left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const std::optional<ClaimHolder> holder = store.claim_holder(wf);
    if (left <= std::chrono::milliseconds(0)) {
      std::string who = "workflow " + wf;
      if (holder && holder->pid)
        who += " (runner pid " + std::to_string(*holder->pid) + " on " +
               (holder->host.empty() ? std::string("this host") : holder->host) + ")";
      throw ResourceError("provisioning::state::locked",
                          "the infrastructure of this workspace is locked: " + who + " is applying it",
                          "wait for it (`prov workflow wait " + wf + "`), or give --lock-timeout to wait here");
    }
    // Until that runner lets go (its pidfd), or the time is up.
    std::unique_ptr<EventFeed> feed = store.follow(wf);
    feed->watch_runner(wf);
    if (store.claim_holder(wf)) feed->wait(std::min(left, std::chrono::milliseconds(1000)));
  }
}

}  // namespace prov
