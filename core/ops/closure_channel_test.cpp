#include "core/ops/closure_channel.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <thread>

#include "core/support/temp_dir.hpp"

using namespace prov;

TEST_CASE("closure channel: a reference round-trips and nothing else is one", "[closure_channel]") {
  CHECK(closure_reference_index(closure_reference(3)) == 3);
  CHECK_FALSE(closure_reference_index(Datum("echo hi")));
  CHECK_FALSE(closure_reference_index(Datum(DatumRecord{{"session_closure", Datum("3")}})));
}

TEST_CASE("closure channel: the session answers a request", "[closure_channel]") {
  TempDir dir;
  // Longer than a socket address holds: reached through the directory's
  // descriptor.
  const std::string deep = dir.path() + "/" + std::string(120, 'x');
  REQUIRE(::mkdir(deep.c_str(), 0700) == 0);
  const std::string path = deep + "/closures.sock";
  ClosureChannelServer server(path);
  std::thread session([&] {
    for (int i = 0; i < 1000; ++i) {
      if (server.serve_one([](const ClosureRequest& r) {
            ClosureReply reply;
            reply.ok = r.ref == 1 && r.operation == "a";
            reply.output = "input " + r.input.find("x")->str();
            return reply;
          }))
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  ClosureRequest req;
  req.ref = 1;
  req.operation = "a";
  req.input = DatumRecord{{"x", Datum("y")}};
  ClosureReply r = request_closure(path, req, nullptr);
  session.join();
  CHECK(r.ok);
  CHECK_FALSE(r.session_gone);
  CHECK(r.output == "input y");
}

TEST_CASE("closure channel: without a session the request says so", "[closure_channel]") {
  TempDir dir;
  const std::string path = dir.path() + "/closures.sock";
  { ClosureChannelServer server(path); }  // listened once, gone now
  ClosureReply r = request_closure(path, ClosureRequest{}, nullptr);
  CHECK_FALSE(r.ok);
  CHECK(r.session_gone);
  CHECK(r.message.find("re-run it with `prov workflow run`") != std::string::npos);
}

namespace {

/// Serves one request on `server` with an answer of `size` bytes of output.
std::thread answer_with(ClosureChannelServer& server, size_t size) {
  return std::thread([&server, size] {
    for (int i = 0; i < 2000; ++i) {
      if (server.serve_one([size](const ClosureRequest&) {
            ClosureReply reply;
            reply.ok = true;
            reply.output.assign(size, 'x');
            return reply;
          }))
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

}  // namespace

TEST_CASE("closure channel: an answer past 64 MiB is read whole", "[closure_channel]") {
  TempDir dir;
  const std::string path = dir.path() + "/closures.sock";
  ClosureChannelServer server(path);
  constexpr size_t kSize = (size_t{64} << 20) + 4096;
  std::thread session = answer_with(server, kSize);
  const auto start = std::chrono::steady_clock::now();
  ClosureReply r = request_closure(path, ClosureRequest{}, nullptr);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  session.join();
  WARN("a " << kSize << "-byte answer read in " << secs << " s");
  CHECK(r.ok);
  CHECK_FALSE(r.session_gone);
  CHECK(r.output.size() == kSize);
  // Its time is a figure, not an assertion (a sanitizer build takes several times longer):
  // quadratic reading took about 21 s for 60 MB, linear about 2 s (docs/RELIABILITY.md).
}

TEST_CASE("closure channel: an answer over limits.message_size fails with the limit's code, not as a gone session",
          "[closure_channel][limits]") {
  TempDir dir;
  const std::string path = dir.path() + "/closures.sock";
  ClosureChannelServer server(path);
  std::thread session = answer_with(server, 2 << 20);
  Limits limits;
  limits.message_size = 1 << 20;
  ClosureReply r = request_closure(path, ClosureRequest{}, nullptr, limits);
  session.join();
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.session_gone);
  CHECK(r.code == "provisioning::limits::message_size");
  CHECK(r.message.find("over the limit of 1048576 bytes (limits.message_size)") != std::string::npos);
  CHECK(r.message.find("PROVISIONING_LIMITS_MESSAGE_SIZE") != std::string::npos);
}
