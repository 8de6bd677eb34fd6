#include "core/config/typed_keys.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {
constexpr int64_t kSecond = 1'000'000'000;
}

TEST_CASE("type_known_keys makes lengths of time durations", "[config][typed_keys]") {
  Datum config = DatumRecord{
      {"workflow", DatumRecord{{"timeout", "15m"},
                               {"parallel", 4},
                               {"retry", DatumRecord{{"backoff", "500ms"}, {"max_backoff", Duration{10 * kSecond}}}}}},
      {"providers", DatumRecord{{"cache_ttl", "1m"},
                                {"local", DatumRecord{{"timeout", 30}, {"kill_grace", "2s"}, {"log_dir", "5s"}}},
                                {"folder", DatumRecord{{"timeout", 1.5}}}}},
  };
  std::vector<InterpolationFailure> failures;
  type_known_keys(config, failures);
  CHECK(failures.empty());
  const Datum& wf = *config.find("workflow");
  CHECK(*wf.find("timeout") == Datum(Duration{900 * kSecond}));
  CHECK(*wf.find("parallel") == Datum(4));
  CHECK(*wf.find("retry")->find("backoff") == Datum(Duration{kSecond / 2}));
  CHECK(*wf.find("retry")->find("max_backoff") == Datum(Duration{10 * kSecond}));
  const Datum& ps = *config.find("providers");
  CHECK(*ps.find("cache_ttl") == Datum(Duration{60 * kSecond}));
  CHECK(*ps.find("local")->find("timeout") == Datum(Duration{30 * kSecond}));
  CHECK(*ps.find("local")->find("kill_grace") == Datum(Duration{2 * kSecond}));
  CHECK(*ps.find("local")->find("log_dir") == Datum("5s"));  // not a duration key
  CHECK(*ps.find("folder")->find("timeout") == Datum(Duration{3 * kSecond / 2}));
}

TEST_CASE("type_known_keys: a value that is no length of time fails its key", "[config][typed_keys]") {
  Datum config = DatumRecord{{"workflow", DatumRecord{{"timeout", "soon"}, {"retry", DatumRecord{{"backoff", 5}}}}}};
  std::vector<InterpolationFailure> failures;
  type_known_keys(config, failures);
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].key == KeyPath{"workflow", "timeout"});
  CHECK(failures[0].error.code() == "provisioning::config::bad_duration");
  CHECK(std::string(failures[0].error.what()).rfind("workflow.timeout is not a length of time (soon)", 0) == 0);
  CHECK(failures[1].key == KeyPath{"workflow", "retry", "backoff"});
  CHECK(config.find("workflow")->find("timeout")->is_null());
}
