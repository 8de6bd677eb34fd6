#include "plugin/engine/plugin_server.hpp"

#include <algorithm>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/support/version.hpp"
#include "plugin/commands/command.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace prov::plugin {

namespace {

/// Ends the process at once: used when the engine is gone or broke the protocol, so that no
/// thread blocked on the engine can keep us alive.
[[noreturn]] void die(const std::string& message, int code) {
  if (!message.empty()) {
    std::fprintf(stderr, "nu_plugin_provisioning: %s\n", message.c_str());
    std::fflush(stderr);
  }
#if defined(__SANITIZE_ADDRESS__)
  // _Exit skips LeakSanitizer's check at exit: under AddressSanitizer, check here.
  __lsan_do_leak_check();
#endif
  std::_Exit(code);
}

}  // namespace

PluginServer::PluginServer(const CommandRegistry& commands, std::unique_ptr<Codec> codec, int in_fd, int out_fd,
                           ServerOptions options)
    : commands_(commands), conn_(std::move(codec), out_fd), in_fd_(in_fd), options_(options) {}

void PluginServer::serve() {
  try {
    conn_.send_encoding();
  } catch (const std::exception& e) {
    die(std::string("cannot write to the engine: ") + e.what(), 1);
  }
  std::string buf(64 * 1024, '\0');
  while (true) {
    ssize_t n = ::read(in_fd_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("reading from the engine failed: ") + std::strerror(errno), 1);
    }
    if (n == 0) break;
    try {
      conn_.codec().feed(std::string_view(buf.data(), static_cast<size_t>(n)));
      while (auto in = conn_.codec().next_input()) dispatch(std::move(*in));
    } catch (const ProtocolError& e) {
      die("protocol error (" + e.code() + "): " + e.what(), 1);
    } catch (const std::system_error& e) {
      // Our output is gone: the engine will not read anything more.
      die({}, 0);
    }
  }
  // Input closed.
  if (conn_.codec().has_partial())
    die("protocol error (provisioning::protocol::truncated): input ended in the middle of a message (truncated frame)",
        1);
  if (!hello_seen_) die("protocol error (provisioning::protocol::no_hello): input ended before the engine's Hello", 1);
  std::unique_lock lock(m_);
  input_closed_ = true;
  lock.unlock();
  // No more answers or stream data can arrive: wake everything that waits for them.
  signals_.interrupt();
  shutdown_inputs("the engine closed the connection");
  lock.lock();
  idle_cv_.wait(lock, [&] { return active_calls_ == 0; });
  // End here, not by returning: idle pool workers still wait on their condition variable, and
  // destroying it under them would block.
  die({}, 0);
}

void PluginServer::shutdown_inputs(const std::string& why) {
  std::lock_guard lock(m_);
  for (auto& [id, p] : pending_) {
    EngineCallResponse r;
    r.kind = EngineCallResponse::Kind::Error;
    r.error.msg = why;
    p.set_value(std::move(r));
  }
  pending_.clear();
  for (auto& [id, s] : inputs_) s->abort(why);
  for (auto& [id, s] : outputs_) s->drop();
}

void PluginServer::handle_hello(const ProtocolInfo& hello) {
  const std::string unsupported = "protocol error (provisioning::protocol::unsupported_engine): ";
  if (hello.protocol != "nu-plugin") die(unsupported + "the engine speaks '" + hello.protocol + "', not nu-plugin", 1);
  auto version = parse_semver(hello.version);
  if (!version) die(unsupported + "the engine sent a malformed version '" + hello.version + "'", 1);
  if (!engine_supported(*version))
    die("unsupported Nushell " + hello.version + " (provisioning::protocol::unsupported_engine): this plugin supports " +
            "Nushell " + supported_range_text() + " (tested with 0.107.0, 0.108.0, 0.109.1, 0.114.1 and 0.115.1)",
        1);
  engine_version_ = hello.version;
  engine_features_ = hello.features;
  completion_caller_ =
      *version >= kCompletionContextEngine ? CallerContext::Engine : CallerContext::PluginProcess;
  conn_.set_dialect(dialect_for(*version));
  hello_seen_ = true;
  // Answer with the engine's own version: it accepts only versions semver-compatible with it.
  conn_.send(hello_message(hello.version, {}));
}

const Wire& PluginServer::signatures() {
  if (signatures_.is_null()) {
    signatures_ = Wire::array();
    for (const auto& c : commands_.all()) signatures_.push_back(to_wire(c->signature(), conn_.dialect()));
  }
  return signatures_;
}

void PluginServer::dispatch(PluginInput&& in) {
  using K = PluginInput::Kind;
  if (!hello_seen_ && in.kind != K::Hello) throw ProtocolError("the engine sent a message before Hello");
  switch (in.kind) {
    case K::Hello:
      if (hello_seen_) throw ProtocolError("the engine sent Hello twice");
      handle_hello(in.hello);
      return;
    case K::Call:
      switch (in.call.kind) {
        case PluginCall::Kind::Metadata:
          conn_.send(metadata_response(in.id, prov::kVersion));
          return;
        case PluginCall::Kind::Signature:
          conn_.send(call_response(in.id, Wire{{"Signature", signatures()}}));
          return;
        case PluginCall::Kind::Run:
          start_run(in.id, std::move(in.call.run));
          return;
        case PluginCall::Kind::GetCompletion: {
          if (in.call.problem.empty()) {
            start_completion(in.id, std::move(in.call.completion));
            return;
          }
          LabeledError e;
          e.msg = "nu_plugin_provisioning could not read the completion call: " + in.call.problem;
          e.code = "provisioning::plugin::malformed_call";
          conn_.send(error_response(in.id, e));
          return;
        }
        case PluginCall::Kind::Other: {
          LabeledError e;
          e.msg = "nu_plugin_provisioning does not support the '" + in.call.variant + "' plugin call";
          e.code = "provisioning::plugin::unsupported_call";
          conn_.send(error_response(in.id, e));
          return;
        }
      }
      return;
    case K::Goodbye: {
      std::unique_lock lock(m_);
      goodbye_ = true;
      if (active_calls_ == 0) die({}, 0);
      return;
    }
    case K::EngineCallResponse: {
      std::lock_guard lock(m_);
      auto it = pending_.find(in.id);
      if (it == pending_.end()) throw ProtocolError("answer to unknown engine call " + std::to_string(in.id));
      const auto& data = in.response.data;
      if (in.response.kind == EngineCallResponse::Kind::PipelineData &&
          (data.kind == PipelineDataHeader::Kind::ListStream || data.kind == PipelineDataHeader::Kind::ByteStream)) {
        auto s = std::make_shared<InputStream>();
        inputs_[data.stream_id] = s;
        answer_streams_[in.id] = s;
      }
      it->second.set_value(std::move(in.response));
      pending_.erase(it);
      return;
    }
    case K::Data:
    case K::End: {
      std::shared_ptr<InputStream> s;
      {
        std::lock_guard lock(m_);
        auto it = inputs_.find(in.id);
        if (it != inputs_.end()) s = it->second;
        if (in.kind == K::End && it != inputs_.end()) inputs_.erase(it);
      }
      if (!s) return;  // a stream we already dropped
      if (in.kind == K::Data) s->push(std::move(in.data));
      else s->end();
      return;
    }
    case K::Ack:
    case K::Drop: {
      std::shared_ptr<OutputStream> s;
      {
        std::lock_guard lock(m_);
        auto it = outputs_.find(in.id);
        if (it != outputs_.end()) s = it->second;
      }
      if (!s) return;  // already ended
      if (in.kind == K::Ack) s->ack();
      else s->drop();
      return;
    }
    case K::Signal:
      if (in.signal == "Interrupt") signals_.interrupt();
      else signals_.reset();
      return;
  }
}

void PluginServer::start_run(CallId id, RunCall&& run) {
  std::shared_ptr<InputStream> input;
  {
    std::lock_guard lock(m_);
    if (run.input.kind == PipelineDataHeader::Kind::ListStream ||
        run.input.kind == PipelineDataHeader::Kind::ByteStream) {
      input = std::make_shared<InputStream>();
      inputs_[run.input.stream_id] = input;
    }
    ++active_calls_;
  }
  // Quick commands (no engine calls, no blocking, no streamed input) answer on this thread:
  // handing them to another costs more than running them.
  const Command* cmd = commands_.find(run.name);
  if (cmd && cmd->quick() && !input) {
    run_call(id, std::move(run), nullptr);
    return;
  }
  pool_.submit([this, id, run = std::move(run), input]() mutable { run_call(id, std::move(run), std::move(input)); });
}

bool PluginServer::attempt(CallId id, const std::string& doing, std::optional<Span> at,
                           const std::function<void()>& body) {
  try {
    body();
    return true;
  } catch (const LabeledErrorException& e) {
    conn_.send(error_response(id, e.error()));
  } catch (const std::system_error&) {
    throw;
  } catch (const std::exception& e) {
    LabeledError err;
    err.msg = "internal error " + doing + ": " + e.what();
    if (at) err.labels.push_back({"while running this command", *at});
    err.code = "provisioning::internal";
    err.help = "this is a bug in nu_plugin_provisioning; please report it with the command you ran";
    conn_.send(error_response(id, err));
  }
  return false;
}

void PluginServer::run_call(CallId id, RunCall run, std::shared_ptr<InputStream> input_stream) {
  try {
    EngineInterface engine(*this, id);
    PipelineOutput out;
    if (attempt(id, "in " + run.name, run.call.head, [&] {
          PipelineInput input(run.input, input_stream, &conn_);
          if (input.span().end == 0) run.input.span = run.call.head;
          out = commands_.invoke(run.name, engine, run.call, input);
        })) {
      // Before the answer: the engine may stop an idle plugin as soon as the call ends.
      gc_hold_.refresh();
      send_output(id, run, std::move(out));
    }
  } catch (const std::system_error&) {
    // The engine is gone; nothing left to tell it.
  }
  call_finished();
}

void PluginServer::start_completion(CallId id, GetCompletionInfo&& info) {
  {
    std::lock_guard lock(m_);
    ++active_calls_;
  }
  // On a worker, as a Run: completions ask the engine for its directory and environment, and
  // the answers arrive through this (the protocol) thread.
  pool_.submit([this, id, info = std::move(info)] { completion_call(id, info); });
}

void PluginServer::completion_call(CallId id, const GetCompletionInfo& info) {
  try {
    EngineInterface engine(*this, id, completion_caller_);
    std::optional<std::vector<DynamicSuggestion>> items;
    if (attempt(id, "completing " + info.name, std::nullopt, [&] { items = commands_.complete(engine, info); })) {
      gc_hold_.refresh();
      conn_.send(completion_items_response(id, items));
    }
  } catch (const std::system_error&) {
    // The engine is gone; nothing left to tell it.
  }
  call_finished();
}

void PluginServer::send_output(CallId id, const RunCall& run, PipelineOutput out) {
  switch (out.kind) {
    case PipelineOutput::Kind::Empty:
      conn_.send(call_response(id, Wire{{"PipelineData", empty_header()}}));
      return;
    case PipelineOutput::Kind::Value:
      conn_.send_value_response(id, out.value);
      return;
    case PipelineOutput::Kind::ListStream: break;
    case PipelineOutput::Kind::ByteStream: send_bytes_output(id, run, std::move(out)); return;
  }
  // Ready items may fill a larger window: they cost the engine nothing until it reads them.
  auto stream = std::make_shared<OutputStream>(out.ready_items ? std::max<size_t>(options_.stream_window, 256)
                                                               : options_.stream_window);
  if (out.dropped) stream->set_drop_flag(out.dropped);
  const OutputRegistration registered(*this, stream);
  const StreamId sid = registered.id;
  Span span = out.span.end > 0 ? out.span : run.call.head;
  conn_.send(call_response(id, Wire{{"PipelineData", list_stream_header(sid, span)}}));
  auto stop = [&] { return signals_.interrupted(); };
  // Items that are ready at once go out several to a write: a batch is written when it is
  // large, when the window has no credit left (so the engine can acknowledge what it holds),
  // and at the end.
  std::string batch;
  auto flush = [&] {
    if (!batch.empty()) conn_.send_bytes(batch);
    batch.clear();
  };
  while ((out.ready_items && stream->has_credit()) || (flush(), stream->wait_for_credit(stop))) {
    std::optional<Value> item;
    try {
      item = out.next();
    } catch (const LabeledErrorException& e) {
      item = Value::error(e.error(), span);
    } catch (const std::system_error&) {
      throw;
    } catch (const std::exception& e) {
      LabeledError err;
      err.msg = e.what();
      err.code = "provisioning::internal";
      item = Value::error(err, span);
    }
    if (!item) break;
    stream->sent();
    if (out.ready_items) {
      conn_.encode_list_data(sid, *item, batch);
      if (batch.size() >= (64u << 10)) flush();
    } else {
      conn_.send_list_data(sid, *item);
    }
    if (item->is(Value::Type::Error)) break;
  }
  flush();
  gc_hold_.refresh();
  conn_.send(end_message(sid));
}

PluginServer::OutputRegistration::OutputRegistration(PluginServer& server, std::shared_ptr<OutputStream> stream)
    : server_(server) {
  std::lock_guard lock(server_.m_);
  id = server_.next_stream_++;
  server_.outputs_[id] = std::move(stream);
}

PluginServer::OutputRegistration::~OutputRegistration() {
  std::lock_guard lock(server_.m_);
  server_.outputs_.erase(id);
}

void PluginServer::send_bytes_output(CallId id, const RunCall& run, PipelineOutput out) {
  auto stream = std::make_shared<OutputStream>(options_.stream_window);
  const OutputRegistration registered(*this, stream);
  const StreamId sid = registered.id;
  Span span = out.span.end > 0 ? out.span : run.call.head;
  conn_.send(call_response(id, Wire{{"PipelineData", byte_stream_header(sid, span, out.byte_type, out.content_type)}}));
  auto stop = [&] { return signals_.interrupted(); };
  while (stream->wait_for_credit(stop)) {
    std::optional<std::string> chunk;
    std::optional<LabeledError> failure;
    try {
      chunk = out.next_bytes();
    } catch (const LabeledErrorException& e) {
      failure = e.error();
    } catch (const std::system_error&) {
      throw;
    } catch (const std::exception& e) {
      failure.emplace();
      failure->msg = e.what();
      failure->code = "provisioning::internal";
    }
    if (failure) {  // the stream ends with the error where reading failed
      conn_.send(Wire{{"Data", Wire::array({sid, Wire{{"Raw", {{"Err", to_wire(*failure)}}}}})}});
      break;
    }
    if (!chunk) break;
    stream->sent();
    conn_.send(raw_data_message(sid, *chunk));
  }
  gc_hold_.refresh();
  conn_.send(end_message(sid));
}

void PluginServer::call_finished() {
  std::unique_lock lock(m_);
  --active_calls_;
  if (active_calls_ == 0) {
    if (goodbye_ && !input_closed_) die({}, 0);
    idle_cv_.notify_all();
  }
}

EngineCallResponse PluginServer::engine_call(CallId context, Wire call, std::shared_ptr<InputStream>* stream) {
  std::future<EngineCallResponse> answer;
  EngineCallId id;
  {
    std::lock_guard lock(m_);
    if (input_closed_) throw std::runtime_error("the engine closed the connection");
    id = next_engine_call_++;
    answer = pending_[id].get_future();
  }
  conn_.send(engine_call_message(context, id, std::move(call)));
  EngineCallResponse r = answer.get();
  std::shared_ptr<InputStream> s;
  {
    std::lock_guard lock(m_);
    if (auto it = answer_streams_.find(id); it != answer_streams_.end()) {
      s = std::move(it->second);
      answer_streams_.erase(it);
    }
  }
  if (stream) *stream = std::move(s);
  else if (s) PipelineInput(r.data, s, &conn_);  // nobody reads it: drop it
  if (r.kind == EngineCallResponse::Kind::Error) throw LabeledErrorException(r.error);
  return r;
}

}  // namespace prov::plugin
