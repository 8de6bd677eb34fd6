#pragma once
/// The protocol's messages: what the engine sends (PluginInput, parsed and checked here) and
/// what the plugin sends (PluginOutput, built here). Shapes follow nu-plugin-protocol.

#include <optional>
#include <string>
#include <vector>

#include "plugin/protocol/value.hpp"
#include "plugin/protocol/value_wire.hpp"
#include "plugin/protocol/wire.hpp"

namespace prov::plugin {

using CallId = uint64_t;
using StreamId = uint64_t;
using EngineCallId = uint64_t;

/// Hello's body: protocol name, Nushell version, features (maps with at least `name`).
struct ProtocolInfo {
  std::string protocol;
  std::string version;
  std::vector<std::string> features;  ///< feature names
  bool operator==(const ProtocolInfo&) const = default;
};

/// A flag as the engine passes it: its long name, where it was written, and its value if any.
struct NamedArg {
  std::string name;
  Span name_span;
  std::optional<Value> value;
  bool operator==(const NamedArg&) const = default;
};

/// The arguments of a command invocation, evaluated by the engine.
struct EvaluatedCall {
  Span head;
  std::vector<Value> positional;
  std::vector<NamedArg> named;

  /// The flag's entry, or nullptr when it was not given.
  const NamedArg* flag(std::string_view name) const;
  /// True when a switch was given (and not given as `--flag=false`).
  bool has_flag(std::string_view name) const;
  /// The flag's value when it carries one.
  const Value* flag_value(std::string_view name) const;
  bool operator==(const EvaluatedCall&) const = default;
};

/// How pipeline data starts: nothing, one value, or a stream whose items follow by id.
struct PipelineDataHeader {
  enum class Kind { Empty, Value, ListStream, ByteStream };
  Kind kind = Kind::Empty;
  std::optional<prov::plugin::Value> value;
  StreamId stream_id = 0;
  Span span;
  std::string byte_stream_type;  ///< "Binary", "String" or "Unknown"
  bool operator==(const PipelineDataHeader&) const = default;
};

/// The Run call: which command, its arguments and its input.
struct RunCall {
  std::string name;
  EvaluatedCall call;
  PipelineDataHeader input;
  bool operator==(const RunCall&) const = default;
};

/// Which argument a completion is asked for: a flag's value (by its long name) or the
/// positional at `index` of the signature (required ones first, then optional ones).
struct GetCompletionArgType {
  enum class Kind { Flag, Positional };
  Kind kind = Kind::Positional;
  std::string flag;
  size_t index = 0;
  bool operator==(const GetCompletionArgType&) const = default;
};

/// The GetCompletion call (Nushell 0.109 and later): the command, the argument under the
/// cursor, and the arguments written so far. Of the engine's parsed call (an ast::Call) only
/// literals are kept: string, path, int, float and bool arguments become Values; anything else
/// (subexpressions, variables, the argument being completed) is left out, a positional as
/// Nothing so that indices stay. The rest of the ast::Call is never looked at.
struct GetCompletionInfo {
  std::string name;
  GetCompletionArgType arg_type;
  EvaluatedCall call;
  uint64_t pos = 0;  ///< the cursor, in the engine's span coordinates
  bool operator==(const GetCompletionInfo&) const = default;
};

/// A plugin call from the engine. `variant` holds the name for calls this plugin does not serve;
/// `problem` says why a call's body could not be read (the call is answered with an error).
struct PluginCall {
  enum class Kind { Metadata, Signature, Run, GetCompletion, Other };
  Kind kind = Kind::Other;
  std::string variant;
  RunCall run;
  GetCompletionInfo completion;
  std::string problem;
  bool operator==(const PluginCall&) const = default;
};

/// The engine's answer to one of our engine calls.
struct EngineCallResponse {
  enum class Kind { Error, PipelineData, ValueMap, Other };
  Kind kind = Kind::Other;
  LabeledError error;
  PipelineDataHeader data;
  Record map;
  std::string variant;
  bool operator==(const EngineCallResponse&) const = default;
};

/// One item of a stream: a Value for list streams, bytes or an error for byte streams.
struct StreamData {
  bool is_list = true;
  Value value;
  bool raw_ok = true;
  std::vector<uint8_t> bytes;
  LabeledError error;
  bool operator==(const StreamData&) const = default;
};

/// Any message from the engine.
struct PluginInput {
  enum class Kind { Hello, Call, Goodbye, EngineCallResponse, Data, End, Drop, Ack, Signal };
  Kind kind = Kind::Goodbye;
  ProtocolInfo hello;
  uint64_t id = 0;  ///< call id, engine call id or stream id
  PluginCall call;
  prov::plugin::EngineCallResponse response;
  StreamData data;
  std::string signal;  ///< "Interrupt" or "Reset"
  bool operator==(const PluginInput&) const = default;
};

/// Parses and checks one message; throws ProtocolError naming what is wrong. A GetCompletion
/// whose body cannot be read is not a ProtocolError: it comes back with `call.problem` set.
PluginInput parse_plugin_input(const Wire& w);
/// The body of a GetCompletion call; throws ProtocolError when name, arg_type or call is unusable.
GetCompletionInfo parse_get_completion(const Wire& body);

/// One completion item, as Nushell's DynamicSuggestion. Of its fields only `value` and
/// `append_whitespace` must be on the wire; the optional ones may be left out.
struct DynamicSuggestion {
  std::string value;
  std::optional<std::string> description;
  bool append_whitespace = true;
  bool operator==(const DynamicSuggestion&) const = default;
};
Wire to_wire(const DynamicSuggestion& s);
PipelineDataHeader parse_pipeline_header(const Wire& w);

// ---- output -------------------------------------------------------------------------------

Wire hello_message(const std::string& version, const std::vector<std::string>& features);
Wire call_response(CallId id, Wire body);
Wire error_response(CallId id, const LabeledError& e);
Wire metadata_response(CallId id, const std::string& plugin_version);
/// `{"CompletionItems": null | [...]}`: null lets the engine complete the argument itself.
Wire completion_items_response(CallId id, const std::optional<std::vector<DynamicSuggestion>>& items);
Wire empty_header();
Wire value_header(const Value& v, const Dialect& d);
Wire list_stream_header(StreamId id, Span span);
/// A byte stream's header: `type` is "Binary", "String" or "Unknown"; a non-empty
/// `content_type` goes into its metadata (the fields every supported release reads).
Wire byte_stream_header(StreamId id, Span span, const std::string& type, const std::string& content_type);
/// One chunk of a byte stream.
Wire raw_data_message(StreamId id, std::string_view bytes);
Wire engine_call_message(CallId context, EngineCallId id, Wire call);
Wire list_data_message(StreamId id, const Value& v, const Dialect& d);
Wire end_message(StreamId id);
Wire ack_message(StreamId id);
Wire drop_message(StreamId id);
Wire gc_disabled_message(bool disabled);

}  // namespace prov::plugin
