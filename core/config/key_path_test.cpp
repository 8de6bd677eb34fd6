#include "core/config/key_path.hpp"

#include <catch2/catch.hpp>

using namespace prov;

TEST_CASE("render_key joins members with dots and quotes the awkward ones", "[config][key_path]") {
  CHECK(render_key({}) == "");
  CHECK(render_key({"providers", "local", "timeout"}) == "providers.local.timeout");
  CHECK(render_key({"servers", "web.1", "port"}) == "servers.\"web.1\".port");
  CHECK(render_key({"a b", ""}) == "\"a b\".\"\"");
  CHECK(render_key({"say \"hi\""}) == "\"say \\\"hi\\\"\"");
}

TEST_CASE("parse_key reads back what render_key writes", "[config][key_path]") {
  CHECK(parse_key("a.b.c") == KeyPath{"a", "b", "c"});
  CHECK(parse_key("servers.0.name") == KeyPath{"servers", "0", "name"});
  for (const KeyPath& p : {KeyPath{"servers", "web.1", "port"}, KeyPath{"a b", ""},
                           KeyPath{"say \"hi\"", "x\\y"}})
    CHECK(parse_key(render_key(p)) == p);
  CHECK_FALSE(parse_key(""));
  CHECK_FALSE(parse_key("a..b"));
  CHECK_FALSE(parse_key("a."));
  CHECK_FALSE(parse_key(".a"));
  CHECK_FALSE(parse_key("\"open"));
  CHECK_FALSE(parse_key("\"a\"b"));
}

TEST_CASE("lookup_path follows records by key and lists by index", "[config][key_path]") {
  Datum root = DatumRecord{
      {"providers", DatumRecord{{"local", DatumRecord{{"timeout", 30}}}}},
      {"servers", DatumList{DatumRecord{{"name", "web"}}, DatumRecord{{"name", "db"}}}},
      {"7", "seven"},
  };
  KeyPath hit{"providers", "local", "timeout"};
  PathLookup r = lookup_path(root, hit);
  REQUIRE(r.found(hit));
  CHECK(*r.value == Datum(30));

  KeyPath item{"servers", "1", "name"};
  r = lookup_path(root, item);
  REQUIRE(r.found(item));
  CHECK(*r.value == Datum("db"));

  // Digits name a key in a record.
  r = lookup_path(root, {"7"});
  CHECK(r.depth == 1);
  CHECK(*r.value == Datum("seven"));

  KeyPath miss{"providers", "aws", "region"};
  r = lookup_path(root, miss);
  CHECK_FALSE(r.found(miss));
  CHECK(r.depth == 1);
  CHECK(r.value == root.find("providers"));

  CHECK(lookup_path(root, {"servers", "2"}).depth == 1);   // out of range
  CHECK(lookup_path(root, {"servers", "x"}).depth == 1);   // not an index
  CHECK(lookup_path(root, {"servers", "-1"}).depth == 1);
  CHECK(lookup_path(root, {"providers", "local", "timeout", "x"}).depth == 3);  // into a scalar
  CHECK(lookup_path(root, {}).value == &root);
}

TEST_CASE("nearest_keys suggests members near the first one that is missing",
          "[config][key_path]") {
  Datum root = DatumRecord{
      {"providers", DatumRecord{{"local", DatumRecord{{"timeout", 30}, {"log_dir", "/l"}}},
                                {"docstore", DatumRecord{{"root", "/d"}, {"timeout", 10}}}}},
      {"workflow", DatumRecord{{"parallel", 4}}},
  };
  CHECK(nearest_keys(root, {"providers", "local", "timout"}) ==
        std::vector<std::string>{"providers.local.timeout"});
  // "root" shares the ending of "timeot" but is too far from it.
  CHECK(nearest_keys(root, {"providers", "docstore", "timeot"}) ==
        std::vector<std::string>{"providers.docstore.timeout"});
  // The rest of the path is kept when it exists under the suggestion, dropped when not.
  CHECK(nearest_keys(root, {"provders", "local", "timeout"}) ==
        std::vector<std::string>{"providers.local.timeout"});
  CHECK(nearest_keys(root, {"provders", "aws"}) == std::vector<std::string>{"providers"});
  CHECK(nearest_keys(root, {"providers", "aws", "region"}).empty());
  CHECK(nearest_keys(root, {"workflow", "parallel"}).empty());       // exists
  CHECK(nearest_keys(root, {"workflow", "parallel", "x"}).empty());  // under a scalar
  CHECK(nearest_keys(root, {"providers", "locl"}, 1) ==
        std::vector<std::string>{"providers.local"});
}
