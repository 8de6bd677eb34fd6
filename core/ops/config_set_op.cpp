#include "core/ops/config_set_op.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "core/config/key_path.hpp"
#include "core/config/toml_file.hpp"
#include "core/events/event.hpp"
#include "core/ops/fields.hpp"
#include "core/ops/kind_fields.hpp"
#include "core/ops/toml_edit.hpp"
#include "core/ops/toml_writer.hpp"
#include "core/ops/workspace_path.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"
#include "core/support/redact.hpp"
#include "core/support/unique_fd.hpp"

namespace prov {

namespace {

constexpr const char* kFile = "config.user.toml";

/// Holds an exclusive flock on the workspace folder for its lifetime: edits of
/// config.user.toml are serialised across threads and processes, and no lock file is left
/// anywhere (the file itself is replaced by rename, so its inode cannot carry the lock).
class EditLock {
 public:
  explicit EditLock(const std::string& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    while (!fd_ || ::flock(fd_.get(), LOCK_EX) != 0) {
      if (fd_ && errno == EINTR) continue;
      const int err = errno;
      throw ResourceError("provisioning::resource::lock", "cannot lock " + dir + ": " + std::strerror(err),
                          "check that the workspace folder exists and is readable");
    }
  }

 private:
  UniqueFd fd_;  ///< holds the flock; closing it lets go
};

/// config.user.toml as it is on disk.
struct Document {
  std::string path;
  bool existed = false;
  unsigned mode = 0600;
  std::string text;
};

Document load(const WorkspacePath& where) {
  Document doc;
  doc.path = where.absolute;
  const std::optional<FileContent> file = read_file_if_exists(where.absolute);
  if (!file) return doc;
  doc.existed = true;
  doc.mode = file->mode;
  doc.text = file->data;
  return doc;
}

/// A fingerprint of the text an edit added (FNV-1a, 64 bits), so that rollback removes exactly
/// that text without the journal holding it (it may be a secret).
std::string fingerprint(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

KeyPath parse_key_field(const Fields& f) {
  std::optional<KeyPath> key = parse_key(f.string("key"));
  if (!key) f.invalid("key", "must be a dotted key like `a.b.c` (quote members holding dots: `a.\"b.c\"`)");
  return *key;
}

/// The value field as one inline TOML value.
std::string value_field(const Fields& f) {
  const Datum* value = f.get("value");
  if (!value) f.invalid("value", "is required (null cannot be written to TOML)");
  std::string why;
  std::string text = render_inline_toml(*value, why);
  if (text.empty()) f.invalid("value", why);
  return text;
}

void save(const Document& doc, const std::string& text) { write_file_atomic(doc.path, text, doc.mode); }

[[noreturn]] void bad_undo(const std::string& why) {
  throw WorkflowError("provisioning::operation::bad_undo",
                      "config.set cannot roll back: its undo record " + why,
                      std::string("the journal may be damaged; fix ") + kFile + " by hand");
}

const Datum& undo_member(const Datum& undo, const char* name, bool (Datum::*is)() const) {
  const Datum* d = undo.find(name);
  if (!d || !(d->*is)()) bad_undo(std::string("lacks `") + name + "`");
  return *d;
}

/// `r` with a configuration_changed event naming the key and the file (never the value, which
/// may be a secret).
OpResult changed(OpResult r, const KeyPath& key) {
  r.resource_event = event_type::configuration_changed;
  r.resource = Datum(DatumRecord{{"type", Datum("config")}, {"key", Datum(render_key(key))}, {"file", Datum(kFile)}});
  return r;
}

/// True when the value `previous` (TOML value text) that `key` held is or holds a secret.
bool holds_secret(const KeyPath& key, const std::string& previous, const OpContext& ctx) {
  const std::vector<std::string> patterns =
      ctx.secret_patterns.empty() ? secret_patterns(Datum()) : ctx.secret_patterns;
  const Datum parsed = parse_toml("v = " + previous, "undo");
  const Datum* v = parsed.find("v");
  if (!v) return false;
  return !(redact(*v, patterns, key) == *v);
}

/// The private folder, made 0700 when missing; refuses anything else there (a symlink).
void ensure_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw ResourceError("provisioning::state::io", "cannot create " + dir + ": " + std::strerror(errno));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ResourceError("provisioning::state::unsafe_path", dir + " is not a private folder");
}

/// The exact text of the value an undo record restores: in the record, or in the private file
/// it names (a secret). Records written before edits kept bytes hold `v = …` documents
/// (`previous`, `previous_file`): their value is written anew.
std::string stored_text(const Datum& undo, const OpContext& ctx, const char* file_member, const char* member);

std::string previous_text(const Datum& undo, const OpContext& ctx) {
  const bool legacy = !undo.find("previous_value") && !undo.find("previous_value_file");
  const char* file_member = legacy ? "previous_file" : "previous_value_file";
  std::string text = stored_text(undo, ctx, file_member, legacy ? "previous" : "previous_value");
  if (!legacy) return text;
  Datum parsed;
  try {
    parsed = parse_toml(text, "undo");
  } catch (const ConfigError&) {
    bad_undo("holds a `previous` value that is not TOML");
  }
  const Datum* v = parsed.find("v");
  if (!v) bad_undo("holds an empty `previous` value");
  std::string why;
  return render_inline_toml(*v, why);
}

std::string stored_text(const Datum& undo, const OpContext& ctx, const char* file_member, const char* member) {
  if (const Datum* file = undo.find(file_member)) {
    if (!file->is_string() || file->str().empty() || file->str().find('/') != std::string::npos ||
        file->str().front() == '.')
      bad_undo("names a malformed `previous_file`");
    if (ctx.private_dir.empty()) bad_undo("names a private file, and there is no private folder here");
    if (ctx.private_parent) {  // through the folder held open: never through a link
      std::optional<std::string> text;
      try {
        const std::string dir = ctx.private_dir.substr(ctx.private_dir.rfind('/') + 1);
        if (std::optional<SafeDir> d = ctx.private_parent->find(dir)) text = d->read_file(file->str());
      } catch (const Error& e) {
        bad_undo(std::string("names a private file that cannot be read: ") + e.what());
      }
      if (!text) bad_undo("names a private file that cannot be read: it is missing");
      return *text;
    }
    std::string why;
    auto content = read_regular_file(ctx.private_dir + "/" + file->str(), Links::refuse, why);
    if (!content) bad_undo("names a private file that cannot be read: " + why);
    return content->data;
  }
  return undo_member(undo, member, &Datum::is_string).str();
}

}  // namespace

void ConfigSetOp::validate(const OperationSpec& op) const {
  check_declared_fields(op);
  value_field(Fields(op));  // a value TOML can hold
}

OpResult ConfigSetOp::do_run(const OperationSpec& op, const OpContext& ctx) const {
  validate(op);
  Fields f(op);
  const KeyPath key = parse_key_field(f);
  const std::string value = value_field(f);
  const WorkspacePath where = resolve_in_workspace(ctx.workspace, kFile);

  EditLock lock(where.root);
  Document doc = load(where);
  const TomlEdit edit = toml_set(doc.text, key, value, where.absolute);
  DatumRecord undo = {{"key", render_key(key)}, {"file_existed", doc.existed}};
  if (edit.previous) {
    undo.emplace_back("existed", true);
    if (holds_secret(key, *edit.previous, ctx)) {
      // The journal is no place for a secret: it goes to a private file the undo names.
      if (ctx.private_dir.empty()) {
        OpResult r = op_failed("provisioning::operation::secret_undo",
                               "config.set cannot replace the secret " + render_key(key) +
                                   " here: there is no private place to keep it for rollback");
        r.permanent = true;
        return r;
      }
      const std::string name = state_file_name(op.id) + ".toml";
      if (ctx.private_parent) {
        ctx.private_parent->sub(ctx.private_dir.substr(ctx.private_dir.rfind('/') + 1), true)
            .write_file_atomic(name, *edit.previous, 0600);
      } else {
        ensure_private_dir(ctx.private_dir);
        write_file_atomic(ctx.private_dir + "/" + name, *edit.previous, 0600);
      }
      undo.emplace_back("previous_value_file", name);
    } else {
      undo.emplace_back("previous_value", *edit.previous);
    }
  } else {
    undo.emplace_back("existed", false);
    undo.emplace_back("inserted_size", static_cast<int64_t>(edit.inserted.size()));
    undo.emplace_back("inserted_fingerprint", fingerprint(edit.inserted));
  }
  save(doc, edit.text);
  OpResult r = changed(op_succeeded("set " + render_key(key) + " in " + kFile, std::move(undo)), key);
  // The new value, as later operations see it; a secret one never leaves the file.
  r.out = redact(*f.get("value"), ctx.secret_patterns.empty() ? secret_patterns(Datum()) : ctx.secret_patterns, key);
  return r;
}

OpResult ConfigSetOp::do_rollback(const OperationSpec&, const Datum& undo, const OpContext& ctx) const {
  const std::optional<KeyPath> key = parse_key(undo_member(undo, "key", &Datum::is_string).str());
  if (!key) bad_undo("has a malformed `key`");
  const Datum* existed = undo.find("existed");
  const Datum* file_existed = undo.find("file_existed");
  if (!existed || !std::holds_alternative<bool>(existed->v) || !file_existed ||
      !std::holds_alternative<bool>(file_existed->v))
    bad_undo("lacks `existed` or `file_existed`");
  const WorkspacePath where = resolve_in_workspace(ctx.workspace, kFile);

  EditLock lock(where.root);
  Document doc = load(where);
  if (std::get<bool>(existed->v)) {
    save(doc, toml_set(doc.text, *key, previous_text(undo, ctx), where.absolute).text);
    return changed(op_succeeded("restored " + render_key(*key) + " in " + kFile), *key);
  }
  const Datum* size = undo.find("inserted_size");
  const Datum* print = undo.find("inserted_fingerprint");
  const size_t inserted = size && std::holds_alternative<int64_t>(size->v)
                              ? static_cast<size_t>(std::max<int64_t>(0, std::get<int64_t>(size->v)))
                              : 0;
  const std::string expected = print && print->is_string() ? print->str() : "";
  const std::string text = toml_remove(
      doc.text, *key, inserted, [&](std::string_view block) { return fingerprint(block) == expected; }, where.absolute);
  if (text == doc.text) return op_succeeded(render_key(*key) + " is already absent from " + kFile);
  if (!std::get<bool>(file_existed->v) && text.empty())
    remove_file_durable(doc.path);
  else
    save(doc, text);
  return changed(op_succeeded("removed " + render_key(*key) + " from " + kFile + ", where it was absent before"), *key);
}

}  // namespace prov
