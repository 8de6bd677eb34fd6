/// Fuzz target: bytes from the engine in the msgpack encoding (protocol_fuzz.hpp).

#include "tests/fuzz/protocol_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return prov::plugin::fuzz::fuzz_protocol("msgpack", data, size);
}
