#include "core/providers/nu_provider.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "core/providers/provider_contract_test.hpp"
#include "core/providers/server_identity.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

namespace prov {
namespace {

/// The pinned Nushell versions the tests run against: $PROV_NU, else the repository's copies.
std::vector<std::string> test_nus() {
  if (const char* nu = std::getenv("PROV_NU"); nu && *nu) return {nu};
  std::vector<std::string> nus = {PROV_SOURCE_DIR "/node_modules/nushell/bin/nu"};
  const std::string older = PROV_SOURCE_DIR "/node_modules/nu-0.108.0/bin/nu";
  if (std::filesystem::exists(older)) nus.push_back(older);
  return nus;
}

const std::string kFolderModule = PROV_SOURCE_DIR "/examples/providers/folder";

struct PoolReset {
  ~PoolReset() { NuWorkerPool::shared().clear(); }
};

ProviderContext folder_context(const TempDir& ws, const std::string& nu, Datum config = DatumRecord{}) {
  ProviderContext ctx;
  ctx.workspace = ws.path();
  ctx.state_dir = ws / ".provisioning";
  ctx.config = std::move(config);
  ctx.nu_path = nu;
  return ctx;
}

ServerSpec named(const std::string& name) {
  ServerSpec s;
  s.name = name;
  s.plan = "small";
  s.labels = DatumRecord{{"tier", "web"}};
  return s;
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("the folder provider keeps the provider contract", "[nu_provider]") {
  PoolReset reset;
  for (const std::string& nu : test_nus()) {
    SECTION(nu) {
      TempDir ws("nu-provider");
      testing::check_provider_contract(
          [&] { return std::make_unique<NuProvider>("folder", kFolderModule, folder_context(ws, nu)); },
          named("web-1"));
      CHECK(std::filesystem::is_directory(ws / ".provisioning/folder-servers"));
    }
  }
}

TEST_CASE("the folder provider keeps its servers where its config says", "[nu_provider]") {
  PoolReset reset;
  TempDir ws("nu-provider");
  NuProvider p("folder", kFolderModule,
               folder_context(ws, test_nus()[0], DatumRecord{{"path", "servers"}, {"timeout", "5s"}}));
  CHECK(p.timeout() == Duration{5'000'000'000});
  const Server s = p.create(named("db-1"));
  CHECK(s.provider == "folder");
  CHECK(s.state == "running");
  CHECK(std::filesystem::exists(ws / ("servers/" + s.id + ".json")));
  const Datum* plan = nullptr;
  for (const auto& [k, v] : s.fields)
    if (k == "plan") plan = &v;
  REQUIRE(plan);
  CHECK(*plan == Datum("small"));

  // A second provider object in the same process talks to the same warm worker.
  NuProvider again("folder", kFolderModule, folder_context(ws, test_nus()[0], DatumRecord{{"path", "servers"}}));
  CHECK(again.worker() == p.worker());
  CHECK(again.get(s.id).name == "db-1");
  CHECK(again.list().size() == 1);
}

TEST_CASE("data reaches a Nu provider literally, never as code", "[nu_provider]") {
  PoolReset reset;
  TempDir ws("nu-provider");
  NuProvider p("folder", kFolderModule, folder_context(ws, test_nus()[0]));
  const std::string marker = ws / "pwned";
  const std::string hostile = "x; touch " + marker + " $(touch " + marker + ") `touch " + marker +
                              "` \"q\" 'r' {{config.a}} \n--force --help -- ) } ]";
  const Server s = p.create(named(hostile));
  CHECK(s.name == hostile);
  CHECK(p.get(s.id).name == hostile);

  for (const std::string& id : {std::string("--help"), std::string("../../etc/passwd"),
                                "$(touch " + marker + ")", std::string("x; rm -rf /"), std::string("-")}) {
    CAPTURE(id);
    CHECK(testing::provider_error_code([&] { p.get(id); }) == "provisioning::provider::not_found");
  }
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(files_in(ws.path()) == 3);  // .provisioning, folder-servers, the one document
}

TEST_CASE("a Nu provider's failures keep their codes", "[nu_provider]") {
  PoolReset reset;
  TempDir ws("nu-provider");
  const std::string nu = test_nus()[0];

  NuProvider raising("raising", PROV_SOURCE_DIR "/tests/providers/raising", folder_context(ws, nu));
  CHECK(testing::provider_error_code([&] { raising.list(); }) == "provisioning::provider::failed");
  CHECK(testing::provider_error_code([&] { raising.create(named("a")); }) ==
        "provisioning::provider::failed");
  try {
    raising.get("a");
    FAIL("no error");
  } catch (const ProviderError& e) {
    CHECK_THAT(e.what(), Catch::Contains("quota exceeded in region x"));
  }
  const Connectivity c = raising.test_connectivity();
  CHECK_FALSE(c.ok);
  CHECK_THAT(c.message, Catch::Contains("quota exceeded in region x"));

  NuProvider garbage("garbage", PROV_SOURCE_DIR "/tests/providers/garbage", folder_context(ws, nu));
  for (auto& f : std::vector<std::function<void()>>{[&] { garbage.list(); },
                                                    [&] { garbage.get("x"); },
                                                    [&] { garbage.create(named("a")); }}) {
    try {
      f();
      FAIL("no error");
    } catch (const ProviderError& e) {
      CHECK(e.code() == "provisioning::provider::bad_response");
      CHECK_THAT(e.what(), Catch::Contains("502 Bad Gateway") || Catch::Contains("42"));
    }
  }

  NuProvider hanging("hanging", PROV_SOURCE_DIR "/tests/providers/hanging",
                     folder_context(ws, nu, DatumRecord{{"timeout", Duration{1'000'000'000}}}));
  CHECK(testing::provider_error_code([&] { hanging.list(); }) == "provisioning::provider::timeout");
  CHECK(hanging.get("quick").id == "quick");
}

TEST_CASE("a Nu provider's timeout comes from its config", "[nu_provider]") {
  TempDir ws("nu-provider");
  auto timeout_of = [&](Datum t) {
    return NuProvider("folder", kFolderModule, folder_context(ws, "nu", DatumRecord{{"timeout", t}}))
        .timeout();
  };
  CHECK(NuProvider("folder", kFolderModule, folder_context(ws, "nu", Datum())).timeout() ==
        kNuProviderDefaultTimeout);
  CHECK(timeout_of("1m30s") == Duration{90'000'000'000});
  CHECK(timeout_of(Duration{250'000'000}) == Duration{250'000'000});
  CHECK(timeout_of(300) == Duration{300'000'000'000});  // the seed's `timeout = 300`: seconds
  for (const Datum& bad : {Datum("soon"), Datum(0), Datum(-5), Datum(true), Datum("0s")}) {
    CAPTURE(to_display(bad));
    try {
      timeout_of(bad);
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(e.code() == "provisioning::config::bad_value");
      CHECK_THAT(e.what(), Catch::Contains("providers.folder.timeout"));
    }
  }
}

}  // namespace prov

namespace prov {

TEST_CASE("a Nu provider declares its spec fields; identity holds with them", "[nu_provider]") {
  PoolReset reset;
  TempDir ws("nu-provider");
  std::filesystem::create_directories(ws / "zoned/nulib");
  // Servers live in a JSON file of the state folder; the record holds the spec it was given.
  write_file_atomic(ws / "zoned/nulib/provider.nu", R"NU(
def file [] { $env.PROVISIONING_PROVIDER.state_dir | path join zoned.json }
def all [] { if (file | path exists) { open (file) } else { [] } }
export def spec-fields [] { [region] }
export def list-servers [] { all }
export def create-server [spec: record] {
  let s = {id: $"z-(all | length)", name: $spec.name, state: running, plan: ($spec.plan? | default ""),
           labels: ($spec.labels? | default {}), region: ($spec.region? | default "")}
  mkdir ($env.PROVISIONING_PROVIDER.state_dir)
  all | append $s | save --force (file)
  $s
}
export def get-server [id: string] { all | where id == $id | get 0? }
export def delete-server [id: string] { let s = (get-server $id); all | where id != $id | save --force (file); $s }
)NU",
                    0600);
  NuProvider p("zoned", ws / "zoned", folder_context(ws, test_nus()[0]));
  CHECK(p.spec_fields() == std::vector<std::string>{"region"});
  ServerSpec spec = named("web");
  spec.extra = {{"region", Datum("eu")}};
  CHECK(create_server(p, spec, false).change == "created");
  CHECK(create_server(p, spec, false).change == "unchanged");
  spec.extra = {{"region", Datum("us")}};
  try {
    create_server(p, spec, false);
    FAIL("created");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::server::exists");
    CHECK_THAT(e.what(), Catch::Contains("region: eu → us"));
  }
  spec.extra = {{"regio", Datum("us")}};
  CHECK_THAT(testing::provider_error_code([&] { create_server(p, spec, false); }),
             Catch::Equals("provisioning::provider::invalid_spec"));
  CHECK(p.list().size() == 1);
}

}  // namespace prov
