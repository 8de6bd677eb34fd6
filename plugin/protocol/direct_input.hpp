#pragma once
/// The engine's messages read straight from their bytes into PluginInput, with no Wire tree in
/// between: the hot path of every call (Run, Metadata, Signature) and of streams (Data of a
/// list, Ack, Drop, End), plus Signal and Goodbye. One reader for both encodings.

#include <optional>
#include <string_view>

#include "plugin/protocol/messages.hpp"

namespace prov::plugin {

/// One whole message, as the codec frames it (one MessagePack item; one JSON document), read as
/// parse_plugin_input would read its Wire tree. nullopt for the messages it does not read
/// (Hello, engine-call answers, completions, raw stream data, values other than the common
/// kinds, JSON strings with escapes or non-ASCII bytes, JSON numbers with a fraction or an
/// exponent outside a Float) and for anything that does not follow the protocol: the caller then
/// decodes the message through the Wire tree, whose ProtocolError names what is wrong. Never
/// throws.
std::optional<PluginInput> read_msgpack_input(std::string_view bytes);
std::optional<PluginInput> read_json_input(std::string_view text);

}  // namespace prov::plugin
