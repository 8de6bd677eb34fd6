#include "core/support/ready_line.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"

namespace prov {

void ReadyLine::ready(const Datum& extra) {
  Datum d(DatumRecord{{"ready", Datum(true)}});
  if (extra.is_record())
    for (const auto& [k, v] : extra.record()) d.set(k, v);
  say(d);
}

void ReadyLine::failed(const Error& e) {
  say(Datum(DatumRecord{{"code", Datum(e.code())}, {"message", Datum(e.what())}, {"help", Datum(e.help())}}));
}

void ReadyLine::say(const Datum& d) {
  if (!fd_) return;
  const std::string line = encode_json(d) + "\n";
  // The launcher may have gone; nothing here may stop the program.
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), line.data(), line.size());
  fd_.reset();
}

Datum await_ready_line(int fd, const std::string& what, const std::string& log, std::chrono::seconds timeout,
                       const std::string& code) {
  std::string said;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int rc = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      timed_out = true;
      break;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(buf, static_cast<size_t>(n));
  }
  Datum answer;
  try {
    answer = decode_json(said);
  } catch (const Error&) {
  }
  if (const Datum* ok = answer.find("ready"); ok && std::holds_alternative<bool>(ok->v)) return answer;
  const Datum* said_code = answer.find("code");
  const Datum* message = answer.find("message");
  const Datum* help = answer.find("help");
  if (said_code && said_code->is_string() && message && message->is_string())
    throw WorkflowError(said_code->str(), message->str(), help && help->is_string() ? help->str() : std::string());
  if (timed_out)
    throw ResourceError(code,
                        what + " did not start within " + std::to_string(timeout.count()) + " s", "see " + log);
  std::string tail;
  if (auto text = read_file_if_exists(log)) tail = text->data.substr(text->data.size() > 400 ? text->data.size() - 400 : 0);
  throw ResourceError(code,
                      what + " ended before it was ready" + (tail.empty() ? "" : ": " + tail), "see " + log);
}

}  // namespace prov
