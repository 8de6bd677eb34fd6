#include "core/providers/catalog.hpp"

#include <catch2/catch.hpp>

#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;

TEST_CASE("catalog: asking for an unusable provider extension names its problems", "[provider][catalog]") {
  TempDir ws;
  ws.write("extensions/broken/extension.toml", R"(
[extension]
name = "broken"
version = "0.1.0"
type = "provider"
entry_points = { provider = "../../elsewhere/provider.nu" }
[compatibility]
provisioning = ">=0.1.0"
)");
  const ProviderCatalog catalog = ProviderCatalog::discover(Datum(DatumRecord{}), ws.path());
  for (const auto& p : catalog.all()) CHECK(p.name != "broken");
  try {
    catalog.require("broken");
    FAIL("an unusable extension was given out");
  } catch (const ProviderError& e) {
    CHECK(e.code() == "provisioning::extension::invalid");
    CHECK_THAT(e.what(), Catch::Contains("broken") && Catch::Contains("leads out of the extension's folder"));
    CHECK_THAT(e.help(), Catch::Contains("prov extension get broken"));
  }
  CHECK_THROWS_WITH(catalog.require("nothing-here"), Catch::Contains("no provider called `nothing-here`"));
}
