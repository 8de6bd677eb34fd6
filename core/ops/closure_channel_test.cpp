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
