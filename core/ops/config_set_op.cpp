#include "core/ops/config_set_op.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "core/config/key_path.hpp"
#include "core/config/toml_file.hpp"
#include "core/events/event.hpp"
#include "core/ops/fields.hpp"
#include "core/ops/toml_writer.hpp"
#include "core/ops/workspace_path.hpp"
#include "core/state/state_name.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/error.hpp"
#include "core/support/redact.hpp"
#include "core/ops/kind_fields.hpp"

namespace prov {

namespace {

constexpr const char* kFile = "config.user.toml";

/// Holds an exclusive flock on a lock file beside the configuration for its lifetime. The
/// configuration itself is replaced by rename, so its own inode cannot carry the lock.
class EditLock {
 public:
  explicit EditLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    while (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      if (fd_ >= 0 && errno == EINTR) continue;
      const int err = errno;
      if (fd_ >= 0) ::close(fd_);
      throw ResourceError("provisioning::resource::lock",
                          "cannot lock " + path + ": " + std::strerror(err),
                          "check that the workspace is writable");
    }
  }
  ~EditLock() { ::close(fd_); }
  EditLock(const EditLock&) = delete;
  EditLock& operator=(const EditLock&) = delete;

 private:
  int fd_;
};

/// config.user.toml as it is on disk.
struct Document {
  std::string path;
  bool existed = false;
  unsigned mode = 0600;
  toml::table table;
};

Document load(const WorkspacePath& where) {
  Document doc;
  doc.path = where.absolute;
  const std::optional<FileContent> file = read_file_if_exists(where.absolute);
  if (!file) return doc;
  doc.existed = true;
  doc.mode = file->mode;
  check_toml_text(file->data, where.absolute);
  try {
    doc.table = toml::parse(file->data, where.absolute);
  } catch (const toml::parse_error&) {
    parse_toml(file->data, where.absolute);  // throws the project's positioned ConfigError
    throw;
  }
  return doc;
}

std::string type_of(const toml::node& n) {
  std::ostringstream s;
  s << n.type();
  return s.str();
}

/// The table that holds the key's last member, creating missing tables when `create`; nullptr
/// when it is missing and not created. `existing` counts the members found, not created.
toml::table* holder(toml::table& root, const KeyPath& key, bool create, size_t& existing,
                    const std::string& file) {
  toml::table* t = &root;
  existing = 0;
  for (size_t i = 0; i + 1 < key.size(); ++i) {
    toml::node* n = t->get(key[i]);
    if (!n) {
      if (!create) return nullptr;
      n = &t->insert_or_assign(key[i], toml::table{}).first->second;
    } else if (n->is_table()) {
      if (existing == i) ++existing;
    } else {
      const KeyPath prefix(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      throw ConfigError("provisioning::config::key_conflict",
                        "cannot set " + render_key(key) + " in " + file + ": " +
                            render_key(prefix) + " is " + type_of(*n) + ", not a table",
                        "choose another key, or change " + render_key(prefix) + " first");
    }
    t = n->as_table();
  }
  return t;
}

KeyPath parse_key_field(const Fields& f) {
  std::optional<KeyPath> key = parse_key(f.string("key"));
  if (!key) f.invalid("key", "must be a dotted key like `a.b.c` (quote members holding dots: `a.\"b.c\"`)");
  return *key;
}

std::unique_ptr<toml::node> value_field(const Fields& f) {
  const Datum* value = f.get("value");
  if (!value) f.invalid("value", "is required (null cannot be written to TOML)");
  std::string why;
  std::unique_ptr<toml::node> node = to_toml(*value, why);
  if (!node) f.invalid("value", why);
  return node;
}

void save(const Document& doc) { write_file_atomic(doc.path, render_toml(doc.table), doc.mode); }

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

/// True when the value `previous_toml` ({v = …}) that `key` held is or holds a secret.
bool holds_secret(const KeyPath& key, const std::string& previous_toml, const OpContext& ctx) {
  const std::vector<std::string> patterns =
      ctx.secret_patterns.empty() ? secret_patterns(Datum()) : ctx.secret_patterns;
  const Datum parsed = parse_toml(previous_toml, "undo");
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

/// The TOML text of the value an undo record restores: in the record, or in the private file
/// it names (a secret).
std::string previous_text(const Datum& undo, const OpContext& ctx) {
  if (const Datum* file = undo.find("previous_file")) {
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
  return undo_member(undo, "previous", &Datum::is_string).str();
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
  std::unique_ptr<toml::node> value = value_field(f);
  const WorkspacePath where = resolve_in_workspace(ctx.workspace, kFile);

  EditLock lock(where.root + "/." + kFile + ".lock");
  Document doc = load(where);
  size_t existing = 0;
  toml::table* t = holder(doc.table, key, true, existing, where.absolute);
  DatumRecord undo = {{"key", render_key(key)}, {"file_existed", doc.existed}};
  if (const toml::node* old = t->get(key.back())) {
    toml::table previous;
    previous.insert("v", *old);
    undo.emplace_back("existed", true);
    std::string text = render_toml(previous);
    if (holds_secret(key, text, ctx)) {
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
            .write_file_atomic(name, text, 0600);
      } else {
        ensure_private_dir(ctx.private_dir);
        write_file_atomic(ctx.private_dir + "/" + name, text, 0600);
      }
      undo.emplace_back("previous_file", name);
    } else {
      undo.emplace_back("previous", std::move(text));
    }
  } else {
    undo.emplace_back("existed", false);
    undo.emplace_back("existing_depth", static_cast<int64_t>(existing));
  }
  t->insert_or_assign(key.back(), std::move(*value));
  save(doc);
  return changed(op_succeeded("set " + render_key(key) + " in " + kFile, std::move(undo)), key);
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

  EditLock lock(where.root + "/." + kFile + ".lock");
  Document doc = load(where);
  size_t existing = 0;
  if (std::get<bool>(existed->v)) {
    toml::table previous;
    try {
      previous = toml::parse(previous_text(undo, ctx));
    } catch (const toml::parse_error&) {
      bad_undo("holds a `previous` value that is not TOML");
    }
    toml::node* old = previous.get("v");
    if (!old) bad_undo("holds an empty `previous` value");
    holder(doc.table, *key, true, existing, where.absolute)->insert_or_assign(key->back(), std::move(*old));
    save(doc);
    return changed(op_succeeded("restored " + render_key(*key) + " in " + kFile), *key);
  }

  const Datum* depth = undo.find("existing_depth");
  const size_t keep = depth && std::holds_alternative<int64_t>(depth->v)
                          ? static_cast<size_t>(std::max<int64_t>(0, std::get<int64_t>(depth->v)))
                          : key->size();
  // Tables along the key, root first, while they exist.
  std::vector<toml::table*> chain = {&doc.table};
  for (size_t i = 0; i + 1 < key->size(); ++i) {
    toml::table* next = chain.back()->get_as<toml::table>((*key)[i]);
    if (!next) return op_succeeded(render_key(*key) + " is already absent from " + kFile);
    chain.push_back(next);
  }
  chain.back()->erase(key->back());
  // Remove the tables the run created (deeper than `keep`) once they are empty.
  for (size_t j = chain.size() - 1; j > keep && chain[j]->empty(); --j)
    chain[j - 1]->erase((*key)[j - 1]);
  if (!std::get<bool>(file_existed->v) && doc.table.empty())
    remove_file_durable(doc.path);
  else
    save(doc);
  return changed(op_succeeded("removed " + render_key(*key) + " from " + kFile + ", where it was absent before"), *key);
}

}  // namespace prov
