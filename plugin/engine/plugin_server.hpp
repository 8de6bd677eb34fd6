#pragma once
/// The plugin's side of the protocol: announces the encoding, checks the engine's Hello, then
/// reads messages and serves calls concurrently (each Run and GetCompletion on a worker), routes engine-call
/// answers and stream messages, and exits after Goodbye once in-flight calls have finished.

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>

#include "plugin/engine/connection.hpp"
#include "plugin/engine/engine_interface.hpp"
#include "plugin/engine/gc_hold.hpp"
#include "plugin/engine/pipeline.hpp"
#include "plugin/engine/signals.hpp"
#include "plugin/engine/streams.hpp"
#include "plugin/engine/worker_pool.hpp"
#include "plugin/protocol/engine_version.hpp"

namespace prov::plugin {

class CommandRegistry;

struct ServerOptions {
  size_t stream_window = 32;  ///< unacknowledged list-stream items allowed in flight
  CodecLimits limits;
};

class PluginServer {
 public:
  PluginServer(const CommandRegistry& commands, std::unique_ptr<Codec> codec, int in_fd, int out_fd,
               ServerOptions options = {});

  /// Runs until the engine says Goodbye (and calls finish) or closes the input, then ends the
  /// process: exit code 0 on a clean end, 1 on a protocol error or an unsupported engine (after
  /// a one-line message on stderr). Never returns.
  [[noreturn]] void serve();

  // For EngineInterface:
  /// Sends an engine call and waits for its answer. When the answer opens a stream and
  /// `stream` is given, the stream's items arrive there (read them or drop them).
  EngineCallResponse engine_call(CallId context, Wire call, std::shared_ptr<InputStream>* stream = nullptr);
  void send_option_gc_disabled(bool disabled) { conn_.send(gc_disabled_message(disabled)); }
  /// What keeps the engine from stopping this plugin while it is idle: add the plugin's kinds of
  /// state to it before serve(); it is refreshed after every call.
  GcHold& gc_hold() { return gc_hold_; }
  Signals& signals() { return signals_; }
  const std::string& engine_version() const { return engine_version_; }
  const std::vector<std::string>& engine_features() const { return engine_features_; }
  Connection& connection() { return conn_; }

 private:
  void dispatch(PluginInput&& in);
  void handle_hello(const ProtocolInfo& hello);
  void start_run(CallId id, RunCall&& run);
  /// Runs `body`; true when it succeeded. A failure becomes call `id`'s error response: a
  /// LabeledErrorException as it is, anything else as an internal error `doing` (labeled at
  /// `at`). A lost connection (std::system_error) propagates.
  bool attempt(CallId id, const std::string& doing, std::optional<Span> at, const std::function<void()>& body);
  void run_call(CallId id, RunCall run, std::shared_ptr<InputStream> input);
  void send_output(CallId id, const RunCall& run, PipelineOutput out);
  void send_bytes_output(CallId id, const RunCall& run, PipelineOutput out);
  /// An output stream registered (under a new id) for the engine's Ack and Drop while it lives.
  struct OutputRegistration {
    OutputRegistration(PluginServer& server, std::shared_ptr<OutputStream> stream);
    ~OutputRegistration();
    OutputRegistration(const OutputRegistration&) = delete;
    OutputRegistration& operator=(const OutputRegistration&) = delete;
    PluginServer& server_;
    StreamId id = 0;
  };
  void start_completion(CallId id, GetCompletionInfo&& info);
  void completion_call(CallId id, const GetCompletionInfo& info);
  void call_finished();
  void shutdown_inputs(const std::string& why);
  const Wire& signatures();

  const CommandRegistry& commands_;
  Connection conn_;
  int in_fd_;
  ServerOptions options_;
  Signals signals_;
  bool hello_seen_ = false;
  std::string engine_version_;
  std::vector<std::string> engine_features_;
  CallerContext completion_caller_ = CallerContext::Engine;  ///< who answers a completion's engine calls
  Wire signatures_;  ///< built once, after the dialect is known
  WorkerPool pool_;
  GcHold gc_hold_{[this](bool disabled) { send_option_gc_disabled(disabled); }};

  std::mutex m_;  ///< guards everything below
  std::condition_variable idle_cv_;
  size_t active_calls_ = 0;
  bool goodbye_ = false;
  bool input_closed_ = false;
  EngineCallId next_engine_call_ = 0;
  StreamId next_stream_ = 0;
  std::map<EngineCallId, std::promise<EngineCallResponse>> pending_;
  /// Streams opened by engine-call answers, registered as the answer is read (before their
  /// data) and taken by the caller.
  std::map<EngineCallId, std::shared_ptr<InputStream>> answer_streams_;
  std::map<StreamId, std::shared_ptr<OutputStream>> outputs_;
  std::map<StreamId, std::shared_ptr<InputStream>> inputs_;
};

}  // namespace prov::plugin
