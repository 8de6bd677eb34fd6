// Every command's signature is well formed: Nushell takes the first of two flags with one name
// and silently ignores the other, so duplicates must be caught here.

#include <catch2/catch.hpp>

#include <map>
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

TEST_CASE("a short flag means one thing across every command", "[registry]") {
  CommandRegistry r = make_registry();
  std::map<char, std::string> meaning{{'h', "help"}};
  for (const auto& c : r.all()) {
    Signature s = c->signature();
    for (const Flag& f : s.named) {
      if (!f.short_name) continue;
      INFO(s.name << " -" << *f.short_name << " --" << f.long_name);
      auto [it, fresh] = meaning.emplace(*f.short_name, f.long_name);
      CHECK(it->second == f.long_name);
    }
  }
  CHECK(meaning.at('j') == "parallel");  // as make's and ninja's -j
  CHECK(meaning.at('p') == "provider");
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
