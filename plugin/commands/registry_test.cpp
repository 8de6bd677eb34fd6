// Every command's signature is well formed: Nushell takes the first of two flags with one name
// and silently ignores the other, so duplicates must be caught here.

#include <catch2/catch.hpp>

#include <set>

#include "plugin/commands/command.hpp"

using namespace prov::plugin;

TEST_CASE("no command has two flags with one name or one short form", "[registry]") {
  CommandRegistry r = make_registry();
  REQUIRE(r.all().size() > 20);
  for (const auto& c : r.all()) {
    Signature s = c->signature();
    std::set<std::string> longs{"help"};
    std::set<char> shorts{'h'};
    for (const Flag& f : s.named) {
      INFO(s.name << " --" << f.long_name);
      CHECK(longs.insert(f.long_name).second);
      if (f.short_name) CHECK(shorts.insert(*f.short_name).second);
    }
  }
}

TEST_CASE("every command has a description and at least one example", "[registry]") {
  CommandRegistry r = make_registry();
  for (const auto& c : r.all()) {
    Signature s = c->signature();
    INFO(s.name);
    CHECK(s.description.size() > 10);
    CHECK(!s.examples.empty());
    CHECK(r.find(s.name) == c.get());
  }
}
