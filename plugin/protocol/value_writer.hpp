#pragma once
/// The hot path of the protocol: a Value written straight into MessagePack or JSON bytes, with
/// no Wire tree in between. Produces exactly the bytes that to_wire() + the codec would (the
/// tests hold the two to it), at a fraction of the cost; used for call answers and stream items.

#include <string>

#include "plugin/protocol/value.hpp"
#include "plugin/protocol/value_wire.hpp"

namespace prov::plugin {

enum class Encoding { json, msgpack };

/// Appends `{"CallResponse": [id, {"PipelineData": {"Value": [value, null]}}]}`.
void write_value_response(Encoding enc, uint64_t call_id, const Value& v, const Dialect& d, std::string& out);
/// Appends `{"Data": [id, {"List": value}]}`.
void write_list_data(Encoding enc, uint64_t stream_id, const Value& v, const Dialect& d, std::string& out);

}  // namespace prov::plugin
