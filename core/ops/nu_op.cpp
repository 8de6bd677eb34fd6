#include "core/ops/nu_op.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/events/op_log.hpp"
#include "core/ops/closure_channel.hpp"
#include "core/ops/fields.hpp"
#include "core/ops/op_process.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

/// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
size_t utf8_length(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return 0;
  return n;
}

/// `text` as a NUON double-quoted string; bytes that are not UTF-8 become U+FFFD.
void write_nuon_string(std::string_view text, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      const auto u = static_cast<unsigned char>(c);
      out += "\\u{";
      out += hex[u >> 4];
      out += hex[u & 0xF];
      out += '}';
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

/// Nu source that evaluates to `d` with its type: NUON, read back with `from nuon`.
void write_nuon(const Datum& d, std::string& out) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out += std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          nlohmann::ordered_json j = v;  // shortest text that reads back the same
          std::string text = j.dump();
          if (text == "null") text = v != v ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
          else if (text.find_first_of(".eE") == std::string::npos) text += ".0";
          out += text;
        } else if constexpr (std::is_same_v<T, std::string>) {
          write_nuon_string(v, out);
        } else if constexpr (std::is_same_v<T, DateTime>) {
          out += v.rfc3339;
        } else if constexpr (std::is_same_v<T, Duration>) {
          out += std::to_string(v.nanos) + "ns";
        } else if constexpr (std::is_same_v<T, DatumList>) {
          out += '[';
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            write_nuon(v[i], out);
          }
          out += ']';
        } else {
          out += '{';
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            write_nuon_string(v[i].first, out);
            out += ": ";
            write_nuon(v[i].second, out);
          }
          out += '}';
        }
      },
      d.v);
}

/// Wraps the operation's code so that its `$in` is the input with its type: the input comes as
/// NUON on stdin (data, never spliced into the code) and is piped into the code's block.
constexpr const char* kTypedInputPrefix = "$in | from nuon | do {\n";
constexpr const char* kTypedInputSuffix = "\n}";
/// After a run's code: its value also goes, as JSON, to the file the result's `out` is read
/// from (a value JSON cannot hold, such as a closure, leaves `out` null).
constexpr const char* kKeepValueSuffix =
    "\n} | do { let v = $in; try { $v | to json --raw | save --raw --force $env.PROVISIONING_OPERATION_OUT }; $v }";

/// The Nu process for `code`, with the operation's input, env and cwd.
OpProcess process(const Fields& f, const std::string& code, const OpContext& ctx, bool keep_value = false) {
  OpProcess p;
  p.argv = {ctx.nu_path.empty() ? std::string("nu") : ctx.nu_path, "-n"};
  if (!ctx.nu_plugin.empty()) {
    p.argv.push_back("--plugins");
    p.argv.push_back("[" + nlohmann::ordered_json(ctx.nu_plugin).dump() + "]");
  }
  p.argv.insert(p.argv.end(),
                {"--stdin", "-c", kTypedInputPrefix + code + (keep_value ? kKeepValueSuffix : kTypedInputSuffix)});
  const Datum* input = f.get("input");
  p.stdin_text = nu_input_nuon(input ? *input : Datum());
  p.env = f.env("env");
  p.cwd = f.optional_string("cwd").value_or("");
  if (keep_value) {
    p.scratch = std::make_shared<const TempDir>("prov-out");
    p.out_file = *p.scratch / "out";
    p.env["PROVISIONING_OPERATION_OUT"] = p.out_file;
  }
  return p;
}

/// `code` (a field's value) as a closure reference, or nullopt for Nu source text.
std::optional<int64_t> reference(const Fields& f, std::string_view field) {
  const Datum* d = f.get(field);
  return d ? closure_reference_index(*d) : std::nullopt;
}

/// Asks the session that ran the workflow to evaluate closure `ref`; its output goes to the log.
OpResult run_closure(const OperationSpec& op, const Fields& f, int64_t ref, const OpContext& ctx) {
  ClosureRequest req;
  req.ref = ref;
  req.operation = op.id;
  if (const Datum* input = f.get("input")) req.input = *input;
  ClosureReply r;
  if (ctx.closure_channel.empty()) {
    r.session_gone = true;
    r.message =
        "this operation's closure belonged to the Nu session that ran the workflow; re-run it with "
        "`prov workflow run`";
  } else {
    r = request_closure(ctx.closure_channel, req, ctx.cancel);
  }
  if (!r.output.empty() && ctx.open_log) {
    if (int fd = ctx.open_log(); fd >= 0) {
      const std::string text = op_log_records(op_log_now(), ctx.attempt, OpLogStream::out, r.output);
      for (size_t off = 0; off < text.size();) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
  }
  if (r.ok) return op_succeeded("closure evaluated by the Nu session");
  OpResult res = op_failed(!r.code.empty()    ? r.code
                           : r.session_gone ? "provisioning::operation::closure_session_gone"
                                            : "provisioning::operation::failed",
                           r.message);
  res.cancelled = ctx.cancel && ctx.cancel->cancelled();
  res.permanent = r.session_gone;  // the session does not come back: retrying cannot help
  res.output_tail = output_tail(r.output);
  return res;
}

}  // namespace

std::string nu_input_nuon(const Datum& d) {
  std::string out;
  write_nuon(d, out);
  return out;
}


void NuOp::validate(const OperationSpec& op) const { check_declared_fields(op); }

bool NuOp::has_rollback(const OperationSpec& op) const {
  return Fields(op).get("rollback") != nullptr;
}

OpResult NuOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  if (auto ref = reference(f, "code")) return run_closure(op, f, *ref, ctx);
  return run_op_process(process(f, f.string("code"), ctx, true), ctx);
}

std::unique_ptr<RunningOp> NuOp::do_start(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  if (reference(f, "code")) return nullptr;  // the session evaluates it: an in-process call here
  return start_op_process(process(f, f.string("code"), ctx, true), ctx);
}

OpResult NuOp::do_rollback(const OperationSpec& op, const Datum&, const OpContext& ctx) const {
  Fields f(op);
  if (auto ref = reference(f, "rollback")) return run_closure(op, f, *ref, ctx);
  const std::optional<std::string> code = f.optional_string("rollback");
  if (!code) return op_succeeded("nothing to undo");
  return run_op_process(process(f, *code, ctx), ctx);
}

}  // namespace prov
