#include "core/providers/server_identity.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/state/lock.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

namespace {

/// How long a create waits for another create of the same provider.
constexpr std::chrono::milliseconds kIdentityLockTimeout{120'000};

/// Creates `dir` and its missing parents 0700 (state folders are private whatever the umask).
void make_private_dirs(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  make_private_dirs(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) == 0) ::chmod(dir.c_str(), 0700);
}

bool unset(const Datum& d) {
  if (d.is_null()) return true;
  if (d.is_string()) return d.str().empty();
  if (d.is_list()) return d.list().empty();
  if (d.is_record()) return d.record().empty();
  return false;
}

/// `d` with every record's keys in order, for comparing.
Datum canonical(const Datum& d) {
  if (d.is_record()) {
    DatumRecord r;
    for (const auto& [k, v] : d.record()) r.emplace_back(k, canonical(v));
    std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return Datum(std::move(r));
  }
  if (d.is_list()) {
    DatumList l;
    for (const Datum& v : d.list()) l.push_back(canonical(v));
    return Datum(std::move(l));
  }
  return d;
}

bool same(const Datum& a, const Datum& b) {
  if (unset(a) || unset(b)) return unset(a) && unset(b);
  return canonical(a) == canonical(b);
}

Datum field_of(const Datum& record, const std::string& key) {
  const Datum* v = record.find(key);
  return v ? *v : Datum();
}

/// An env record's names whose values differ between `a` and `b`.
std::vector<std::string> env_names_changed(const Datum& a, const Datum& b) {
  std::vector<std::string> names;
  auto collect = [&](const Datum& x, const Datum& y) {
    if (!x.is_record()) return;
    for (const auto& [k, v] : x.record()) {
      const Datum* other = y.is_record() ? y.find(k) : nullptr;
      if ((!other || !(*other == v)) && std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
    }
  };
  collect(a, b);
  collect(b, a);
  return names;
}

std::string shown(const Datum& d) { return unset(d) ? std::string("(unset)") : to_display(d); }

}  // namespace

void check_spec_fields(const ServerSpec& spec, Provider& provider, const std::string& where) {
  const std::vector<std::string> others = spec.other_fields();
  if (others.empty()) return;
  const std::vector<std::string> takes = provider.spec_fields();
  std::vector<std::string> known = common_spec_fields();
  known.insert(known.end(), takes.begin(), takes.end());
  for (const std::string& f : others) {
    if (std::find(takes.begin(), takes.end(), f) != takes.end()) continue;
    const auto near = nearest_names(f, known);
    std::string help = "provider `" + provider.name() + "` takes " + join_alternatives(known);
    throw ProviderError("provisioning::provider::invalid_spec",
                        where + " has a field `" + f + "` that provider `" + provider.name() + "` does not take" +
                            (near.empty() ? std::string() : "; did you mean `" + near[0] + "`?"),
                        help);
  }
}

std::vector<FieldChange> spec_changes(const ServerSpec& wanted, const Server& existing,
                                      const std::vector<std::string>& fields) {
  const Datum want = wanted.to_datum();
  const Datum have = existing.to_datum();
  std::vector<std::string> keys{"plan", "labels"};
  auto add = [&](const std::string& k) {
    if (k != "name" && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  };
  for (const auto& f : fields) add(f);
  for (const auto& [k, v] : wanted.extra) add(k);
  std::vector<FieldChange> changes;
  for (const auto& k : keys) {
    Datum before = field_of(have, k), after = field_of(want, k);
    if (!same(before, after)) changes.push_back({k, std::move(before), std::move(after)});
  }
  return changes;
}

std::string describe_changes(const std::vector<FieldChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) out += "; ";
    if (c.field == "env") {
      const auto names = env_names_changed(c.before, c.after);
      std::string joined;
      for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
      out += "env: " + (joined.empty() ? std::string("differs") : joined + " differ" + (names.size() == 1 ? "s" : ""));
    } else {
      out += c.field + ": " + shown(c.before) + " → " + shown(c.after);
    }
  }
  return out;
}

std::optional<Server> find_server_named(Provider& p, const std::string& name) {
  for (Server& s : p.list())
    if (s.name == name && s.state != server_state::deleted) return std::move(s);
  return std::nullopt;
}

CreateOutcome create_server(Provider& p, const ServerSpec& spec, bool replace, const std::string& where) {
  if (spec.name.empty())
    throw ProviderError("provisioning::provider::invalid_spec", where + ": `name` is required",
                        "give the spec a name: {name: web, …}");
  check_spec_fields(spec, p, where);
  std::optional<FileLock> lock;
  if (const std::string path = p.identity_lock(); !path.empty()) {
    make_private_dirs(std::filesystem::path(path).parent_path());
    lock = FileLock::acquire(path, "creating servers of provider `" + p.name() + "`", kIdentityLockTimeout);
  }
  CreateOutcome out;
  if (std::optional<Server> existing = find_server_named(p, spec.name)) {
    const auto changes = spec_changes(spec, *existing, p.spec_fields());
    if (changes.empty()) {
      out.server = std::move(*existing);
      out.change = server_change::unchanged;
      return out;
    }
    if (!replace) {
      std::vector<Error> related;
      for (const auto& c : changes) related.emplace_back("provisioning::server::exists", describe_changes({c}));
      ProviderError e("provisioning::server::exists",
                      "server `" + spec.name + "` of provider `" + p.name() + "` (" + existing->id +
                          ") exists with another spec: " + describe_changes(changes),
                      "give the spec it has, another name, or ask to replace it (--replace; replace = true in a "
                      "server.create operation)");
      e.with_related(std::move(related));
      throw e;
    }
    out.removed = p.remove(existing->id);
    out.server = p.create(spec);
    out.change = server_change::replaced;
    return out;
  }
  out.server = p.create(spec);
  out.change = server_change::created;
  return out;
}

}  // namespace prov
