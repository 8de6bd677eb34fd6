/// Fuzz target: one configuration layer's TOML text through what load_config does with it:
/// parse, merge over the built-in defaults, interpolate, collect the leaves with their origins.
/// Only ConfigError may come out, and every leaf's key must lead back to it (config_get).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/config/interpolate.hpp"
#include "core/config/key_path.hpp"
#include "core/config/layers.hpp"
#include "core/config/merge.hpp"
#include "core/config/toml_file.hpp"
#include "core/support/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::map<std::string, std::string> env = {
      {"HOME", "/home/fuzz"}, {"USER", "fuzz"}, {"PROVISIONING_ENV", "dev"}};
  prov::Config config;
  config.workspace = "/fuzz/workspace";
  try {
    const prov::Datum layer = prov::parse_toml(text, "/fuzz/workspace/config.user.toml");
    prov::Datum merged = prov::DatumRecord{};
    prov::Provenance provenance;
    prov::merge_layer(merged, prov::builtin_defaults(config.workspace), {"builtin", "built-in"}, provenance);
    prov::merge_layer(merged, layer, {"user", "/fuzz/workspace/config.user.toml"}, provenance);
    config.merged = prov::interpolate(merged, prov::InterpolationContext{env, std::chrono::system_clock::time_point{},
                                                                         [] { return std::string("main"); }});
    config.leaves = prov::collect_leaves(config.merged, provenance);
  } catch (const prov::ConfigError&) {
    return 0;
  }
  for (const prov::ConfigLeaf& leaf : config.leaves) {
    try {
      const std::optional<prov::KeyPath> path = prov::parse_key(leaf.key);
      if (!path) throw prov::ConfigError("fuzz", "the key does not parse", "");
      prov::config_get(config, *path);
    } catch (const prov::ConfigError& e) {
      std::fprintf(stderr, "config fuzz: leaf %s is not found again: %s\n", leaf.key.c_str(), e.what());
      std::abort();
    }
  }
  return 0;
}
