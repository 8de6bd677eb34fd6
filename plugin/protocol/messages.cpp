#include "plugin/protocol/messages.hpp"

namespace prov::plugin {

const NamedArg* EvaluatedCall::flag(std::string_view name) const {
  for (const auto& n : named)
    if (n.name == name) return &n;
  return nullptr;
}

bool EvaluatedCall::has_flag(std::string_view name) const {
  const NamedArg* n = flag(name);
  if (!n) return false;
  if (n->value && n->value->is(Value::Type::Bool)) return n->value->as_bool();
  return true;
}

const Value* EvaluatedCall::flag_value(std::string_view name) const {
  const NamedArg* n = flag(name);
  return n && n->value ? &*n->value : nullptr;
}

namespace {

const Wire& pair_item(const Wire& w, size_t i, const char* what) {
  if (!w.is_array() || w.size() <= i) throw ProtocolError(std::string(what) + ": expected a tuple");
  return w[i];
}

EvaluatedCall parse_evaluated_call(const Wire& w) {
  EvaluatedCall c;
  c.head = span_from_wire(wire_field(w, "head", "call"));
  const Wire& pos = wire_field(w, "positional", "call");
  if (!pos.is_array()) throw ProtocolError("call.positional: expected a list");
  for (const auto& p : pos) c.positional.push_back(value_from_wire(p));
  const Wire& named = wire_field(w, "named", "call");
  if (!named.is_array()) throw ProtocolError("call.named: expected a list");
  for (const auto& n : named) {
    NamedArg arg;
    const Wire& name = pair_item(n, 0, "call.named");
    if (name.is_string()) {
      arg.name = name.get<std::string>();
    } else {
      arg.name = wire_string(wire_field(name, "item", "call.named"), "call.named.item");
      arg.name_span = span_from_wire(wire_field(name, "span", "call.named"));
    }
    const Wire& val = pair_item(n, 1, "call.named");
    if (!val.is_null()) arg.value = value_from_wire(val);
    c.named.push_back(std::move(arg));
  }
  return c;
}

/// The Value of a literal argument expression (an ast::Expression), or nullopt for anything
/// else. Never throws: the engine's AST is read, not checked.
std::optional<Value> literal_value(const Wire& expression) {
  if (!expression.is_object()) return std::nullopt;
  auto e = expression.find("expr");
  if (e == expression.end() || !e->is_object() || e->size() != 1) return std::nullopt;
  Span span;
  try {
    span = span_from_wire(wire_field(expression, "span", "expression"));
  } catch (const ProtocolError&) {
  }
  const std::string& kind = e->begin().key();
  const Wire& body = e->begin().value();
  if ((kind == "String" || kind == "RawString") && body.is_string())
    return Value::string(body.get<std::string>(), span);
  // Filepath, Directory and GlobPattern are (text, quoted).
  if ((kind == "Filepath" || kind == "Directory" || kind == "GlobPattern") && body.is_array() && !body.empty() &&
      body[0].is_string())
    return Value::string(body[0].get<std::string>(), span);
  if (kind == "Int" && body.is_number_integer()) {
    try {
      return Value::integer(wire_int(body, "Int"), span);
    } catch (const ProtocolError&) {
      return std::nullopt;
    }
  }
  if (kind == "Float" && body.is_number()) return Value::floating(body.get<double>(), span);
  if (kind == "Bool" && body.is_boolean()) return Value::boolean(body.get<bool>(), span);
  return std::nullopt;
}

/// Whether `w` (something with a span) covers the cursor: the argument being completed.
bool under_cursor(const Wire& w, uint64_t pos) {
  try {
    Span s = span_from_wire(wire_field(w, "span", "argument"));
    return s.start <= pos && pos <= s.end;
  } catch (const ProtocolError&) {
    return false;
  }
}

/// The literal arguments of an ast::Call as an EvaluatedCall (see GetCompletionInfo).
EvaluatedCall literal_call(const Wire& ast_call, uint64_t pos) {
  EvaluatedCall c;
  if (!ast_call.is_object()) return c;
  if (auto head = ast_call.find("head"); head != ast_call.end()) {
    try {
      c.head = span_from_wire(*head);
    } catch (const ProtocolError&) {
    }
  }
  auto args = ast_call.find("arguments");
  if (args == ast_call.end() || !args->is_array()) return c;
  for (const Wire& arg : *args) {
    if (!arg.is_object() || arg.size() != 1) continue;
    const std::string& kind = arg.begin().key();
    const Wire& body = arg.begin().value();
    if (kind == "Positional") {
      std::optional<Value> v = under_cursor(body, pos) ? std::nullopt : literal_value(body);
      c.positional.push_back(v ? std::move(*v) : Value::nothing());
    } else if (kind == "Named" && body.is_array() && body.size() == 3 && body[0].is_object()) {
      // (long name, short name, value): a long name is "" for a flag that has only a short one.
      const Wire* name = &body[0];
      auto item = name->find("item");
      if ((item == name->end() || !item->is_string() || item->get_ref<const std::string&>().empty()) &&
          body[1].is_object())
        name = &body[1];
      item = name->find("item");
      if (item == name->end() || !item->is_string()) continue;
      NamedArg n;
      n.name = item->get<std::string>();
      if (auto sp = name->find("span"); sp != name->end()) {
        try {
          n.name_span = span_from_wire(*sp);
        } catch (const ProtocolError&) {
        }
      }
      if (n.name_span.start <= pos && pos <= n.name_span.end && n.name_span.end > 0) continue;
      if (!body[2].is_null()) {
        if (under_cursor(body[2], pos)) continue;
        n.value = literal_value(body[2]);
        if (!n.value) continue;  // a value we cannot know before the call runs
      }
      c.named.push_back(std::move(n));
    }
  }
  return c;
}

}  // namespace

GetCompletionInfo parse_get_completion(const Wire& body) {
  GetCompletionInfo info;
  info.name = wire_string(wire_field(body, "name", "GetCompletion"), "GetCompletion.name");
  auto [kind, arg] = wire_variant(wire_field(body, "arg_type", "GetCompletion"), "GetCompletion.arg_type");
  if (!arg) throw ProtocolError("GetCompletion.arg_type '" + kind + "': missing body");
  if (kind == "Flag") {
    info.arg_type.kind = GetCompletionArgType::Kind::Flag;
    info.arg_type.flag = wire_string(*arg, "GetCompletion.arg_type.Flag");
  } else if (kind == "Positional") {
    info.arg_type.kind = GetCompletionArgType::Kind::Positional;
    info.arg_type.index = wire_uint(*arg, "GetCompletion.arg_type.Positional");
  } else {
    throw ProtocolError("GetCompletion.arg_type: unknown variant '" + kind + "'");
  }
  const Wire& call = wire_field(body, "call", "GetCompletion");
  if (!call.is_object()) throw ProtocolError("GetCompletion.call: expected a map");
  if (auto p = call.find("pos"); p != call.end() && p->is_number_integer())
    info.pos = wire_uint(*p, "GetCompletion.call.pos");
  if (auto c = call.find("call"); c != call.end()) info.call = literal_call(*c, info.pos);
  // The flag being completed has no value yet: it is not a switch that was given.
  if (info.arg_type.kind == GetCompletionArgType::Kind::Flag)
    std::erase_if(info.call.named, [&](const NamedArg& n) { return n.name == info.arg_type.flag && !n.value; });
  return info;
}

PipelineDataHeader parse_pipeline_header(const Wire& w) {
  auto [name, body] = wire_variant(w, "pipeline data");
  PipelineDataHeader h;
  if (name == "Empty") return h;
  if (!body) throw ProtocolError("pipeline data '" + name + "': missing body");
  if (name == "Value") {
    h.kind = PipelineDataHeader::Kind::Value;
    // (Value, Option<PipelineMetadata>) since 0.9x; a bare Value in older documents.
    h.value = value_from_wire(body->is_array() ? pair_item(*body, 0, "pipeline data Value") : *body);
    h.span = h.value->span;
  } else if (name == "ListStream" || name == "ByteStream") {
    h.kind = name == "ListStream" ? PipelineDataHeader::Kind::ListStream : PipelineDataHeader::Kind::ByteStream;
    h.stream_id = wire_uint(wire_field(*body, "id", name.c_str()), "stream id");
    h.span = span_from_wire(wire_field(*body, "span", name.c_str()));
    if (h.kind == PipelineDataHeader::Kind::ByteStream) {
      auto it = body->find("type");
      h.byte_stream_type = it != body->end() ? wire_string(*it, "byte stream type") : "Unknown";
    }
  } else {
    throw ProtocolError("pipeline data: unknown variant '" + name + "'");
  }
  return h;
}

PluginInput parse_plugin_input(const Wire& w) {
  PluginInput in;
  auto [name, body] = wire_variant(w, "message");
  using K = PluginInput::Kind;
  if (name == "Goodbye") {
    in.kind = K::Goodbye;
    return in;
  }
  if (!body) throw ProtocolError("message '" + name + "': missing body");
  if (name == "Hello") {
    in.kind = K::Hello;
    in.hello.protocol = wire_string(wire_field(*body, "protocol", "Hello"), "Hello.protocol");
    in.hello.version = wire_string(wire_field(*body, "version", "Hello"), "Hello.version");
    const Wire& feats = wire_field(*body, "features", "Hello");
    if (!feats.is_array()) throw ProtocolError("Hello.features: expected a list");
    for (const auto& f : feats) in.hello.features.push_back(wire_string(wire_field(f, "name", "feature"), "feature.name"));
  } else if (name == "Call") {
    in.kind = K::Call;
    in.id = wire_uint(pair_item(*body, 0, "Call"), "Call id");
    auto [cname, cbody] = wire_variant(pair_item(*body, 1, "Call"), "plugin call");
    in.call.variant = cname;
    if (cname == "Metadata") in.call.kind = PluginCall::Kind::Metadata;
    else if (cname == "Signature") in.call.kind = PluginCall::Kind::Signature;
    else if (cname == "Run") {
      if (!cbody) throw ProtocolError("Run: missing body");
      in.call.kind = PluginCall::Kind::Run;
      in.call.run.name = wire_string(wire_field(*cbody, "name", "Run"), "Run.name");
      in.call.run.call = parse_evaluated_call(wire_field(*cbody, "call", "Run"));
      in.call.run.input = parse_pipeline_header(wire_field(*cbody, "input", "Run"));
    } else if (cname == "GetCompletion") {
      // A completion the plugin cannot read is answered with an error, never fatal: the
      // engine then completes the argument itself.
      in.call.kind = PluginCall::Kind::GetCompletion;
      try {
        if (!cbody) throw ProtocolError("GetCompletion: missing body");
        in.call.completion = parse_get_completion(*cbody);
      } catch (const ProtocolError& e) {
        in.call.problem = e.what();
      }
    } else {
      in.call.kind = PluginCall::Kind::Other;
    }
  } else if (name == "EngineCallResponse") {
    in.kind = K::EngineCallResponse;
    in.id = wire_uint(pair_item(*body, 0, "EngineCallResponse"), "EngineCallResponse id");
    auto [rname, rbody] = wire_variant(pair_item(*body, 1, "EngineCallResponse"), "engine call response");
    auto& r = in.response;
    r.variant = rname;
    if (rname == "Error") {
      if (!rbody) throw ProtocolError("engine call response Error: missing body");
      r.kind = EngineCallResponse::Kind::Error;
      // Documented as {"LabeledError": {...}} in places; Nushell sends the LabeledError itself.
      const Wire* e = rbody;
      if (e->is_object() && e->size() == 1 && e->contains("LabeledError")) e = &(*e)["LabeledError"];
      r.error = labeled_error_from_wire(*e);
    } else if (rname == "PipelineData") {
      if (!rbody) throw ProtocolError("engine call response PipelineData: missing body");
      r.kind = EngineCallResponse::Kind::PipelineData;
      r.data = parse_pipeline_header(*rbody);
    } else if (rname == "ValueMap") {
      if (!rbody || !rbody->is_object()) throw ProtocolError("engine call response ValueMap: expected a map");
      r.kind = EngineCallResponse::Kind::ValueMap;
      for (auto it = rbody->begin(); it != rbody->end(); ++it) r.map.emplace_back(it.key(), value_from_wire(it.value()));
    } else {
      r.kind = EngineCallResponse::Kind::Other;
    }
  } else if (name == "Data") {
    in.kind = K::Data;
    in.id = wire_uint(pair_item(*body, 0, "Data"), "Data id");
    auto [dname, dbody] = wire_variant(pair_item(*body, 1, "Data"), "stream data");
    if (!dbody) throw ProtocolError("stream data: missing body");
    if (dname == "List") {
      in.data.is_list = true;
      in.data.value = value_from_wire(*dbody);
    } else if (dname == "Raw") {
      in.data.is_list = false;
      auto [oname, obody] = wire_variant(*dbody, "raw stream data");
      if (!obody) throw ProtocolError("raw stream data: missing body");
      if (oname == "Ok") {
        in.data.raw_ok = true;
        if (obody->is_binary()) in.data.bytes.assign(obody->get_binary().begin(), obody->get_binary().end());
        else {
          Value v = value_from_wire(Wire{{"Binary", {{"val", *obody}, {"span", {{"start", 0}, {"end", 0}}}}}});
          in.data.bytes = std::get<std::vector<uint8_t>>(v.payload);
        }
      } else if (oname == "Err") {
        in.data.raw_ok = false;
        const Wire* e = obody;
        if (e->is_object() && e->size() == 1 && !e->contains("msg")) e = &e->begin().value();
        in.data.error = e->contains("msg") ? labeled_error_from_wire(*e) : LabeledError{"stream error", {}, {}, {}, {}, {}};
      } else {
        throw ProtocolError("raw stream data: unknown variant '" + oname + "'");
      }
    } else {
      throw ProtocolError("stream data: unknown variant '" + dname + "'");
    }
  } else if (name == "End" || name == "Drop" || name == "Ack") {
    in.kind = name == "End" ? K::End : name == "Drop" ? K::Drop : K::Ack;
    in.id = wire_uint(*body, name.c_str());
  } else if (name == "Signal") {
    in.kind = K::Signal;
    in.signal = wire_string(*body, "Signal");
    if (in.signal != "Interrupt" && in.signal != "Reset")
      throw ProtocolError("Signal: unknown action '" + in.signal + "'");
  } else {
    throw ProtocolError("message: unknown variant '" + name + "'");
  }
  return in;
}

Wire hello_message(const std::string& version, const std::vector<std::string>& features) {
  Wire feats = Wire::array();
  for (const auto& f : features) feats.push_back({{"name", f}});
  return Wire{{"Hello", {{"protocol", "nu-plugin"}, {"version", version}, {"features", std::move(feats)}}}};
}

Wire call_response(CallId id, Wire body) { return Wire{{"CallResponse", Wire::array({id, std::move(body)})}}; }

Wire error_response(CallId id, const LabeledError& e) { return call_response(id, Wire{{"Error", to_wire(e)}}); }

Wire metadata_response(CallId id, const std::string& plugin_version) {
  return call_response(id, Wire{{"Metadata", {{"version", plugin_version}}}});
}

Wire to_wire(const DynamicSuggestion& s) {
  Wire w{{"value", s.value}};
  if (s.description) w["description"] = *s.description;
  w["append_whitespace"] = s.append_whitespace;
  return w;
}

Wire completion_items_response(CallId id, const std::optional<std::vector<DynamicSuggestion>>& items) {
  Wire list = nullptr;
  if (items) {
    list = Wire::array();
    for (const auto& s : *items) list.push_back(to_wire(s));
  }
  return call_response(id, Wire{{"CompletionItems", std::move(list)}});
}

Wire empty_header() { return "Empty"; }

Wire value_header(const Value& v, const Dialect& d) {
  return Wire{{"Value", Wire::array({to_wire(v, d), nullptr})}};
}

Wire list_stream_header(StreamId id, Span span) {
  return Wire{{"ListStream", {{"id", id}, {"span", to_wire(span)}, {"metadata", nullptr}}}};
}

Wire byte_stream_header(StreamId id, Span span, const std::string& type, const std::string& content_type) {
  Wire metadata = nullptr;
  // 0.111 and later require path_columns; older releases ignore it. `custom` has a default.
  if (!content_type.empty())
    metadata = Wire{{"data_source", "None"}, {"path_columns", Wire::array()}, {"content_type", content_type}};
  return Wire{{"ByteStream", {{"id", id}, {"span", to_wire(span)}, {"type", type}, {"metadata", std::move(metadata)}}}};
}

Wire raw_data_message(StreamId id, std::string_view bytes) {
  // serde sends Vec<u8> as a sequence of numbers in both encodings.
  Wire arr = Wire::array();
  for (char c : bytes) arr.push_back(static_cast<uint8_t>(c));
  return Wire{{"Data", Wire::array({id, Wire{{"Raw", {{"Ok", std::move(arr)}}}}})}};
}

Wire engine_call_message(CallId context, EngineCallId id, Wire call) {
  return Wire{{"EngineCall", {{"context", context}, {"id", id}, {"call", std::move(call)}}}};
}

Wire list_data_message(StreamId id, const Value& v, const Dialect& d) {
  return Wire{{"Data", Wire::array({id, Wire{{"List", to_wire(v, d)}}})}};
}

Wire end_message(StreamId id) { return Wire{{"End", id}}; }
Wire ack_message(StreamId id) { return Wire{{"Ack", id}}; }
Wire drop_message(StreamId id) { return Wire{{"Drop", id}}; }
Wire gc_disabled_message(bool disabled) { return Wire{{"Option", {{"GcDisabled", disabled}}}}; }

}  // namespace prov::plugin
