#include "core/ops/nu_op.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/ops/closure_channel.hpp"
#include "core/ops/fields.hpp"
#include "core/ops/op_process.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

nlohmann::ordered_json as_json(const Datum& d) {
  using J = nlohmann::ordered_json;
  return std::visit(
      [](const auto& v) -> J {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, DateTime>) {
          return v.rfc3339;
        } else if constexpr (std::is_same_v<T, Duration>) {
          return v.nanos;
        } else if constexpr (std::is_same_v<T, DatumList>) {
          J a = J::array();
          for (const Datum& item : v) a.push_back(as_json(item));
          return a;
        } else if constexpr (std::is_same_v<T, DatumRecord>) {
          J o = J::object();
          for (const auto& [key, value] : v) o[key] = as_json(value);
          return o;
        } else {
          return v;
        }
      },
      d.v);
}

/// The Nu process for `code`, with the operation's input, env and cwd.
OpProcess process(const Fields& f, const std::string& code, const OpContext& ctx) {
  OpProcess p;
  p.argv = {ctx.nu_path.empty() ? std::string("nu") : ctx.nu_path, "-n", "--stdin", "-c", code};
  const Datum* input = f.get("input");
  p.stdin_text = nu_input_json(input ? *input : Datum());
  p.env = f.env("env");
  p.cwd = f.optional_string("cwd").value_or("");
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
      std::string text = r.output.back() == '\n' ? r.output : r.output + "\n";
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

std::string nu_input_json(const Datum& d) {
  // Text that is not UTF-8 cannot be JSON; it arrives with U+FFFD in place of the bad bytes.
  return as_json(d).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void NuOp::validate(const OperationSpec& op) const { check_declared_fields(op); }

bool NuOp::has_rollback(const OperationSpec& op) const {
  return Fields(op).get("rollback") != nullptr;
}

OpResult NuOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  if (auto ref = reference(f, "code")) return run_closure(op, f, *ref, ctx);
  return run_op_process(process(f, f.string("code"), ctx), ctx);
}

std::unique_ptr<RunningOp> NuOp::do_start(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  if (reference(f, "code")) return nullptr;  // the session evaluates it: an in-process call here
  return start_op_process(process(f, f.string("code"), ctx), ctx);
}

OpResult NuOp::do_rollback(const OperationSpec& op, const Datum&, const OpContext& ctx) const {
  Fields f(op);
  if (auto ref = reference(f, "rollback")) return run_closure(op, f, *ref, ctx);
  const std::optional<std::string> code = f.optional_string("rollback");
  if (!code) return op_succeeded("nothing to undo");
  return run_op_process(process(f, *code, ctx), ctx);
}

}  // namespace prov
