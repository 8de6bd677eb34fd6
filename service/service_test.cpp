#include <catch2/catch.hpp>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"
#include "service/api.hpp"
#include "service/envelope.hpp"
#include "service/listen_address.hpp"
#include "service/openapi.hpp"
#include "service/token.hpp"

using namespace prov;
using namespace prov::service;

TEST_CASE("listen: HOST:PORT, IPv6 in brackets, loopback or not, bad ones named", "[service]") {
  CHECK(parse_listen("127.0.0.1:9090", "--listen").port == 9090);
  CHECK(parse_listen("127.0.0.1:9090", "--listen").loopback());
  CHECK(parse_listen("127.8.9.1:0", "--listen").loopback());
  CHECK(parse_listen("localhost:80", "--listen").loopback());
  const ListenAddress v6 = parse_listen("[::1]:9443", "--listen");
  CHECK(v6.host == "::1");
  CHECK(v6.loopback());
  CHECK(v6.text() == "[::1]:9443");
  CHECK_FALSE(parse_listen("0.0.0.0:9090", "--listen").loopback());
  CHECK_FALSE(parse_listen("10.1.2.3:9090", "--listen").loopback());
  for (const char* bad : {"9090", ":9090", "host:", "host:99999", "host:12a", "::1:9090", "[::1]9090"}) {
    try {
      parse_listen(bad, "service.listen");
      FAIL(bad);
    } catch (const Error& e) {
      CHECK(e.code() == "provisioning::service::bad_listen");
      CHECK(std::string(e.what()).find("service.listen") != std::string::npos);
    }
  }
}

TEST_CASE("token: made once, private, rotated; compared whole", "[service]") {
  TempDir dir("prov-token");
  const SafeDir d = SafeDir::open(dir.path());
  const std::string t = file_token(d);
  CHECK(t.size() == 64);
  CHECK(file_token(d) == t);
  const std::string r = rotate_token(d);
  CHECK(r != t);
  CHECK(file_token(d) == r);
  CHECK(authorized("Bearer " + r, r));
  CHECK_FALSE(authorized("Bearer " + t, r));
  CHECK_FALSE(authorized("bearer " + r, r));
  CHECK_FALSE(authorized("Bearer " + r + "x", r));
  CHECK_FALSE(authorized("", r));
  CHECK_FALSE(authorized(r, r));
}

TEST_CASE("envelope: the seed's shape, with the plugin's error codes and HTTP statuses", "[service]") {
  const Datum ok = decode_json(data_envelope(Datum(DatumRecord{{"a", Datum(1)}}), "req-1"));
  CHECK(ok.find("status")->str() == "success");
  CHECK(ok.find("data")->find("a") != nullptr);
  CHECK(ok.find("error")->is_null());
  CHECK(ok.find("metadata")->find("request_id")->str() == "req-1");
  CHECK(ok.find("metadata")->find("version")->is_string());
  CHECK(ok.find("metadata")->find("timestamp") != nullptr);
  const WorkflowError e("provisioning::workflow::cycle", "a cycle", "break it");
  const Datum err = decode_json(error_envelope(e, "req-2"));
  CHECK(err.find("status")->str() == "error");
  CHECK(err.find("data")->is_null());
  CHECK(err.find("error")->find("code")->str() == "provisioning::workflow::cycle");
  CHECK(err.find("error")->find("details")->find("help")->str() == "break it");
  CHECK(http_status(e) == 400);
  CHECK(http_status(Error("provisioning::workflow::unknown_id", "x")) == 404);
  CHECK(http_status(Error("provisioning::service::unauthorized", "x")) == 401);
  CHECK(http_status(Error("provisioning::workflow::running", "x")) == 409);
  CHECK(http_status(Error("provisioning::limits::request_size", "x")) == 413);
  CHECK(http_status(Error("provisioning::state::io", "x")) == 500);
  CHECK(new_request_id().rfind("req-", 0) == 0);
  CHECK(new_request_id() != new_request_id());
}

TEST_CASE("openapi: every route of the table is described, /health alone without a token", "[service]") {
  const Datum doc = openapi_document();
  CHECK(doc.find("openapi")->str().rfind("3.", 0) == 0);
  const Datum* paths = doc.find("paths");
  REQUIRE(paths);
  size_t described = 0;
  for (const ApiRoute& r : api_routes()) {
    const Datum* item = paths->find(r.path);
    REQUIRE(item);
    std::string m = r.method;
    for (char& c : m) c = static_cast<char>(std::tolower(c));
    const Datum* op = item->find(m);
    REQUIRE(op);
    CHECK((op->find("security") != nullptr) == !r.needs_token);
    ++described;
  }
  CHECK(described == api_routes().size());
  CHECK(paths->find("/health")->find("get")->find("security") != nullptr);
  for (const char* p : {"/workflows", "/workflows/submit", "/workflows/{id}/events", "/events", "/openapi.json"})
    CHECK(paths->find(p) != nullptr);
  CHECK(api_markdown().find("| POST | `/workflows/submit` |") != std::string::npos);
}
