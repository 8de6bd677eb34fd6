#include "core/ops/file_write_op.hpp"

#include "core/support/sha256.hpp"

#include <cstdio>
#include <optional>

#include "core/ops/fields.hpp"
#include "core/ops/workspace_path.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

std::optional<unsigned> parse_mode(const Fields& f) {
  const Datum* d = f.get("mode");
  if (!d) return std::nullopt;
  const char* const expected =
      "must be permission bits: an octal string like \"0644\" or an int of at most 0o777";
  int64_t bits = -1;
  if (const int64_t* i = std::get_if<int64_t>(&d->v)) {
    bits = *i;
  } else if (d->is_string()) {
    std::string s = d->str();
    if (s.rfind("0o", 0) == 0) s.erase(0, 2);
    if (s.empty() || s.size() > 4) f.invalid("mode", expected);
    bits = 0;
    for (char c : s) {
      if (c < '0' || c > '7') f.invalid("mode", expected);
      bits = bits * 8 + (c - '0');
    }
  }
  if (bits < 0 || bits > 0777) f.invalid("mode", expected);
  return static_cast<unsigned>(bits);
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

[[noreturn]] void bad_undo(const std::string& why) {
  throw WorkflowError("provisioning::operation::bad_undo",
                      "file.write cannot roll back: its undo record " + why,
                      "the journal may be damaged; restore the file by hand");
}

}  // namespace

void FileWriteOp::validate(const OperationSpec& op) const { check_declared_fields(op); }

OpResult FileWriteOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  const WorkspacePath target = resolve_in_workspace(ctx.workspace, f.string("path"));
  const std::string content = f.string("content");
  const std::optional<FileContent> before = read_file_if_exists(target.absolute);
  const unsigned mode = parse_mode(f).value_or(before ? before->mode : 0644);

  const std::vector<std::string> created = create_parent_dirs(target);
  try {
    write_file_atomic(target.absolute, content, mode);
  } catch (...) {
    remove_created_dirs(target.root, created);
    throw;
  }

  DatumRecord undo = {{"path", target.relative}, {"existed", before.has_value()}};
  if (before) {
    undo.emplace_back("content", before->data);
    undo.emplace_back("mode", static_cast<int64_t>(before->mode));
  } else {
    DatumList dirs(created.begin(), created.end());
    undo.emplace_back("created_dirs", std::move(dirs));
  }
  OpResult r = op_succeeded(
      "wrote " + std::to_string(content.size()) + " bytes to " + target.relative + " (mode " + octal(mode) + ")",
      std::move(undo));
  r.out = DatumRecord{{"path", Datum(target.relative)},
                      {"bytes", Datum(static_cast<int64_t>(content.size()))},
                      {"sha256", Datum(sha256_hex(content))}};
  return r;
}

OpResult FileWriteOp::do_rollback(const OperationSpec&, const Datum& undo, const OpContext& ctx) const {
  const Datum* path = undo.find("path");
  const Datum* existed = undo.find("existed");
  if (!path || !path->is_string() || !existed || !std::holds_alternative<bool>(existed->v))
    bad_undo("lacks `path` or `existed`");
  // The path is checked again: the undo record comes back from disk.
  const WorkspacePath target = resolve_in_workspace(ctx.workspace, path->str());

  if (std::get<bool>(existed->v)) {
    const Datum* content = undo.find("content");
    const Datum* mode = undo.find("mode");
    if (!content || !content->is_string() || !mode || !std::holds_alternative<int64_t>(mode->v))
      bad_undo("lacks the old `content` or `mode`");
    const auto bits = static_cast<unsigned>(std::get<int64_t>(mode->v) & 07777);
    create_parent_dirs(target);  // in case they were removed since
    write_file_atomic(target.absolute, content->str(), bits);
    return op_succeeded("restored " + target.relative + " (mode " + octal(bits) + ")");
  }

  read_file_if_exists(target.absolute);  // refuses to remove what is not a regular file
  remove_file_durable(target.absolute);
  std::vector<std::string> created;
  if (const Datum* dirs = undo.find("created_dirs"); dirs && dirs->is_list())
    for (const Datum& d : dirs->list())
      if (d.is_string()) created.push_back(d.str());
  remove_created_dirs(target.root, created);
  return op_succeeded("removed " + target.relative + ", which did not exist before");
}

}  // namespace prov
