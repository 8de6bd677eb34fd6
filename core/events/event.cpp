#include "core/events/event.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/support/error.hpp"
#include "core/support/duration.hpp"

namespace prov {

DateTime now_utc() {
  auto now = std::chrono::system_clock::now();
  return utc_time(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
}

DateTime utc_time(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ns % 1'000'000'000));
  return DateTime{buf};
}

std::optional<int64_t> utc_nanos(const DateTime& t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  long long ns = 0;
  const std::string& s = t.rfc3339;
  if (s.size() != 35 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%9lld+00:00%n", &y, &mo, &d, &h, &mi, &sec, &ns,
                                    &used) != 7 || used != 35)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + ns;
}

Datum Event::to_datum() const {
  DatumRecord r;
  r.emplace_back("time", Datum(time));
  r.emplace_back("workflow_id", Datum(workflow_id));
  r.emplace_back("type", Datum(type));
  if (operation) r.emplace_back("operation", Datum(*operation));
  if (attempt) r.emplace_back("attempt", Datum(*attempt));
  if (exit_code) r.emplace_back("exit_code", Datum(*exit_code));
  if (duration) r.emplace_back("duration", Datum(to_millis(*duration)));  // a measurement: to the ms
  if (message) r.emplace_back("message", Datum(*message));
  if (resource) r.emplace_back("resource", *resource);
  if (details && details->is_record())
    for (const auto& [k, v] : details->record()) r.emplace_back(k, v);
  return Datum(std::move(r));
}

Event Event::from_datum(const Datum& d) {
  auto bad = [](const std::string& why) {
    return ResourceError("provisioning::events::malformed", "malformed event record: " + why);
  };
  if (!d.is_record()) throw bad("not a record");
  Event e;
  DatumRecord details;
  for (const auto& [k, v] : d.record()) {
    if (k == "time") {
      if (auto* t = std::get_if<DateTime>(&v.v)) e.time = *t;
      else if (v.is_string()) e.time = DateTime{v.str()};
      else throw bad("time is not a date");
    } else if (k == "workflow_id" && v.is_string()) e.workflow_id = v.str();
    else if (k == "type" && v.is_string()) e.type = v.str();
    else if (k == "operation" && v.is_string()) e.operation = v.str();
    else if (k == "attempt" && std::holds_alternative<int64_t>(v.v)) e.attempt = std::get<int64_t>(v.v);
    else if (k == "exit_code" && std::holds_alternative<int64_t>(v.v)) e.exit_code = std::get<int64_t>(v.v);
    else if (k == "duration" && std::holds_alternative<Duration>(v.v)) e.duration = std::get<Duration>(v.v);
    else if (k == "message" && v.is_string()) e.message = v.str();
    else if (k == "resource") e.resource = v;
    else details.emplace_back(k, v);
  }
  if (e.type.empty()) throw bad("no type");
  if (!details.empty()) e.details = Datum(std::move(details));
  return e;
}

}  // namespace prov
