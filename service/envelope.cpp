#include "service/envelope.hpp"

#include <random>

#include "core/events/event.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/version.hpp"

namespace prov::service {

namespace {

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

Datum metadata(const std::string& request_id) {
  return Datum(DatumRecord{{"timestamp", Datum(now_utc())},
                           {"request_id", Datum(request_id)},
                           {"version", Datum(std::string(kVersion))}});
}

Datum error_datum(const Error& e) {
  DatumRecord details;
  if (!e.help().empty()) details.emplace_back("help", Datum(e.help()));
  if (!e.related().empty()) {
    DatumList problems;
    for (const Error& r : e.related())
      problems.emplace_back(DatumRecord{{"code", Datum(r.code())},
                                        {"message", Datum(std::string(r.what()))},
                                        {"help", r.help().empty() ? Datum() : Datum(r.help())}});
    details.emplace_back("problems", Datum(std::move(problems)));
  }
  return Datum(DatumRecord{{"code", Datum(e.code())},
                           {"message", Datum(std::string(e.what()))},
                           {"details", details.empty() ? Datum() : Datum(std::move(details))}});
}

Datum plain(const Datum& d) {
  if (const auto* t = std::get_if<DateTime>(&d.v)) return Datum(t->rfc3339);
  if (const auto* u = std::get_if<Duration>(&d.v)) return Datum(static_cast<int64_t>(u->nanos / 1'000'000));
  if (d.is_list()) {
    DatumList out;
    out.reserve(d.list().size());
    for (const Datum& x : d.list()) out.push_back(plain(x));
    return Datum(std::move(out));
  }
  if (d.is_record()) {
    DatumRecord out;
    out.reserve(d.record().size());
    for (const auto& [k, v] : d.record()) out.emplace_back(k, plain(v));
    return Datum(std::move(out));
  }
  return d;
}

}  // namespace

std::string http_json(const Datum& d) { return encode_json(plain(d)); }

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, "req-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string data_envelope(const Datum& data, const std::string& request_id, const std::string& status) {
  return http_json(Datum(DatumRecord{{"status", Datum(status)},
                                       {"data", data},
                                       {"metadata", metadata(request_id)},
                                       {"error", Datum()}}));
}

std::string error_envelope(const Error& e, const std::string& request_id) {
  return http_json(Datum(DatumRecord{{"status", Datum("error")},
                                       {"data", Datum()},
                                       {"metadata", metadata(request_id)},
                                       {"error", error_datum(e)}}));
}

int http_status(const Error& e) {
  const std::string& c = e.code();
  if (c == "provisioning::service::unauthorized") return 401;
  if (c == "provisioning::service::not_found" || c == "provisioning::workflow::unknown_id" ||
      c == "provisioning::workflow::unknown_operation" || c == "provisioning::state::no_journal")
    return 404;
  if (c == "provisioning::service::method_not_allowed") return 405;
  if (c == "provisioning::limits::request_size" || c == "provisioning::limits::message_size") return 413;
  if (c == "provisioning::limits::streams") return 429;
  if (c == "provisioning::workflow::running" || c == "provisioning::workflow::not_running" ||
      c == "provisioning::workflow::already_ended" || c == "provisioning::workflow::already_started" ||
      c == "provisioning::state::locked")
    return 409;
  if (c == "provisioning::state::disk_full" || c == "provisioning::state::read_only") return 503;
  if (starts(c, "provisioning::input::") || starts(c, "provisioning::workflow::") || starts(c, "provisioning::config::") ||
      starts(c, "provisioning::limits::") || starts(c, "provisioning::json::") || starts(c, "provisioning::graph::") ||
      starts(c, "provisioning::provider::") || starts(c, "provisioning::service::"))
    return 400;
  return 500;
}

}  // namespace prov::service
