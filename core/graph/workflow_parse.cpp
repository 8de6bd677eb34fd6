#include "core/graph/workflow_parse.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/config/key_path.hpp"
#include "core/config/toml_file.hpp"
#include "core/graph/dag.hpp"
#include "core/graph/id_index.hpp"
#include "core/graph/references.hpp"
#include "core/ops/kind_fields.hpp"
#include "core/support/atomic_file.hpp"
#include "core/support/datum_json.hpp"
#include "core/support/duration.hpp"
#include "core/support/error.hpp"
#include "core/support/nearest.hpp"

namespace prov {

/// Operations read one at a time: each checked as it comes, its references found, its record
/// kept whole (keep_fields) or cut to the fields named in `keep`.
struct StreamedOperations {
  /// The references found in operation `index`'s fields, or why they could not be read.
  struct References {
    size_t index = 0;
    std::vector<FieldReference> refs;
    std::optional<WorkflowError> error;
  };
  bool keep_fields = true;
  std::vector<std::string> keep;
  size_t count = 0;         ///< operations read
  size_t limit = SIZE_MAX;  ///< beyond this many only the count goes on
  std::vector<OperationSpec> ops;
  std::vector<WorkflowError> problems;            ///< of the operations, in their order
  std::vector<References> references;             ///< of the operations that have any
  std::vector<std::pair<size_t, Datum>> retries;  ///< operations' own `retry`, for their settings
};

namespace {

const std::vector<std::string> kWorkflowFields = {"name", "settings", "vars", "operations"};
const std::vector<std::string> kSettingsFields = {"parallel", "retry", "timeout",
                                                  "rollback_on_failure"};
const std::vector<std::string> kRetryFields = {"attempts", "backoff", "max_backoff"};
const std::vector<std::string> kCommonFields = {"id", "kind", "depends_on", "retry", "timeout"};

/// A record member that is present and not null.
const Datum* member(const Datum& record, std::string_view key) {
  const Datum* d = record.find(key);
  return d && !d->is_null() ? d : nullptr;
}

bool valid_id(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/// "a", "a and b", "a, b and c".
std::string join_all(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

/// Collects problems; each becomes one WorkflowError blamed on the input.
class Problems : public FieldProblems {
 public:
  void add(std::string_view code, std::string message, std::string help) {
    list_.emplace_back("provisioning::workflow::" + std::string(code), message, std::move(help),
                       Blame::input());
  }
  void add(WorkflowError e) { list_.push_back(std::move(e)); }

  /// `where: 'field' must be …, got …`
  void wrong_type(const std::string& where, std::string_view field, std::string_view wanted,
                  const Datum& got, std::string extra_help = {}) override {
    add("wrong_type",
        where + ": " + in_quotes(field) + " must be " + std::string(wanted) + ", got " +
            got.type_name(),
        extra_help.empty() ? "change " + in_quotes(field) + " to " + std::string(wanted)
                           : std::move(extra_help));
  }

  void missing(const std::string& where, std::string_view field, std::string help) override {
    add("missing_field", where + ": missing field " + in_quotes(field), std::move(help));
  }

  void bad_value(const std::string& where, const std::string& what, std::string help) override {
    add("bad_value", where + ": " + what, std::move(help));
  }

  /// An unknown field `key` (shown as `field`, its path), with the nearest known one when
  /// there is one near.
  void unknown_field(const std::string& where, std::string_view field, std::string_view key,
                     const std::vector<std::string>& known, const std::string& owner,
                     std::string elsewhere = {}) {
    const std::vector<std::string> near = nearest_names(key, known, 1);
    std::string help;
    if (!near.empty())
      help = "did you mean " + near.front() + "? ";
    else if (!elsewhere.empty())
      help = elsewhere + "; ";
    help += owner + " takes " + join_all(known);
    add("unknown_field", where + ": unknown field " + in_quotes(field), std::move(help));
  }

  const std::vector<WorkflowError>& list() const { return list_; }
  std::vector<WorkflowError> take() { return std::move(list_); }

 private:
  std::vector<WorkflowError> list_;
};

/// Reads the duration in `value`; reports bad_duration and returns nullopt when it is not one,
/// or is negative, or (when `positive`) zero.
std::optional<Duration> read_duration(Problems& p, const std::string& where,
                                      const std::string& field, const Datum& value, bool positive) {
  std::string why;
  std::optional<Duration> d = to_duration(value, why);
  if (d && d->nanos < 0) {
    why = format_duration(*d) + " is negative";
    d.reset();
  } else if (d && positive && d->nanos == 0) {
    why = "must be longer than 0s";
    d.reset();
  }
  if (!d) p.add("bad_duration", where + ": " + field + ": " + why, kDurationForms);
  return d;
}

/// Reads an int of at least 1 that fits an int.
std::optional<int> read_count(Problems& p, const std::string& where, const std::string& field,
                              const Datum& value) {
  const int64_t* n = std::get_if<int64_t>(&value.v);
  if (!n) {
    p.wrong_type(where, field, "an int of at least 1", value);
    return std::nullopt;
  }
  if (*n < 1 || *n > INT_MAX) {
    p.bad_value(where, in_quotes(field) + " must be at least 1, got " + std::to_string(*n),
                "set " + in_quotes(field) + " to 1 or more");
    return std::nullopt;
  }
  return static_cast<int>(*n);
}

/// A retry record over `base`: the fields it sets replace base's.
RetryPolicy read_retry(Problems& p, const std::string& where, const std::string& field,
                       const Datum& value, RetryPolicy base) {
  if (!value.is_record()) {
    p.wrong_type(where, field, "a record with attempts, backoff and max_backoff", value);
    return base;
  }
  for (const auto& [key, v] : value.record()) {
    if (v.is_null()) continue;
    const std::string path = field + "." + key;
    if (key == "attempts") {
      if (auto n = read_count(p, where, path, v)) base.attempts = *n;
    } else if (key == "backoff") {
      if (auto d = read_duration(p, where, path, v, false)) base.backoff = *d;
    } else if (key == "max_backoff") {
      if (auto d = read_duration(p, where, path, v, false)) base.max_backoff = *d;
    } else {
      p.unknown_field(where, path, key, kRetryFields, in_quotes(field));
    }
  }
  return base;
}

/// The settings in `value` over `base`, per field. `prefix` names the table in messages
/// ("settings"); fields other than settings are refused unless `others_allowed` (the
/// workspace's `[workflow]` table holds more than run settings).
WorkflowSettings read_settings(Problems& p, const std::string& where, const Datum& value, WorkflowSettings s,
                               const std::string& prefix, bool others_allowed) {
  if (!value.is_record()) {
    p.wrong_type(where, prefix, "a record", value);
    return s;
  }
  for (const auto& [key, v] : value.record()) {
    if (v.is_null()) continue;
    const std::string path = prefix + "." + key;
    if (key == "parallel") {
      if (auto n = read_count(p, where, path, v)) s.parallel = *n;
    } else if (key == "retry") {
      s.retry = read_retry(p, where, path, v, s.retry);
    } else if (key == "timeout") {
      s.timeout = read_duration(p, where, path, v, true);
    } else if (key == "rollback_on_failure") {
      if (const bool* b = std::get_if<bool>(&v.v))
        s.rollback_on_failure = *b;
      else
        p.wrong_type(where, path, "a bool", v);
    } else if (!others_allowed) {
      p.unknown_field(where, path, key, kSettingsFields, prefix);
    }
  }
  return s;
}

/// Reads operation number `number` (1-based). Its id and kind are left empty when unusable;
/// its `fields` are left to the caller.
OperationSpec read_operation(Problems& p, const Datum& value, size_t number,
                             const RetryPolicy& workflow_retry) {
  OperationSpec op;
  const Datum* id = value.is_record() ? member(value, "id") : nullptr;
  std::string where = id && id->is_string() ? "operation '" + id->str() + "'"
                                            : "operation #" + std::to_string(number);
  if (!value.is_record()) {
    p.add("wrong_type", where + " must be a record with id and kind, got " + value.type_name(),
          "write each operation as a record like {id: \"build\", kind: \"command\", run: "
          "[\"make\"]}");
    return op;
  }
  if (id) {
    if (!id->is_string()) {
      p.wrong_type(where, "id", "a string", *id);
    } else {
      if (valid_id(id->str()))
        op.id = id->str();
      else
        p.bad_value(where, "the id may only hold letters, digits and _ . : -",
                    "rename the operation, for example to " +
                        in_quotes(id->str().empty() ? "step-1" : "step-" + std::to_string(number)));
    }
  } else {
    p.missing(where, "id", "give the operation an id that others can name in depends_on");
  }

  const KindDecl* kind = nullptr;
  if (const Datum* k = member(value, "kind")) {
    if (!k->is_string()) {
      p.wrong_type(where, "kind", "a string", *k);
    } else {
      kind = find_kind_decl(k->str());
      if (kind) {
        op.kind = k->str();
      } else {
        const std::vector<std::string> near = nearest_names(k->str(), workflow_kinds(), 1);
        p.add("unknown_kind", where + ": unknown kind " + in_quotes(k->str()),
              (near.empty() ? std::string() : "did you mean " + near.front() + "? ") +
                  "kinds are " + join_all(workflow_kinds()));
      }
    }
  } else {
    p.missing(where, "kind",
              "say what the operation does: kind is " + join_alternatives(workflow_kinds()));
  }

  for (const auto& [key, v] : value.record()) {
    if (key == "id" || key == "kind" || v.is_null()) continue;
    if (key == "depends_on") {
      if (!v.is_list()) {
        p.wrong_type(where, key, "a list of operation ids", v);
        continue;
      }
      const DatumList& ids = v.list();
      op.depends_on.reserve(ids.size());
      for (size_t k = 0; k < ids.size(); ++k) {
        if (!ids[k].is_string()) {
          p.wrong_type(where, "depends_on[" + std::to_string(k) + "]", "an operation id", ids[k]);
        } else {
          op.depends_on.push_back(ids[k].str());  // check_graph drops repeats
        }
      }
    } else if (key == "retry") {
      op.retry = read_retry(p, where, "retry", v, workflow_retry);
    } else if (key == "timeout") {
      op.timeout = read_duration(p, where, "timeout", v, true);
    } else if (kind) {
      auto rule = std::find_if(kind->fields.begin(), kind->fields.end(),
                               [&name = key](const FieldDecl& f) { return f.name == name; });
      if (rule != kind->fields.end()) {
        check_field(p, where, key, rule->type, v);
        continue;
      }
      std::vector<std::string> known = kCommonFields;
      for (const FieldDecl& f : kind->fields) known.emplace_back(f.name);
      std::string elsewhere;
      for (const KindDecl& other : kind_decls())
        for (const FieldDecl& f : other.fields)
          if (f.name == key && elsewhere.empty())
            elsewhere = in_quotes(key) + " belongs to " + std::string(other.name) + " operations";
      p.unknown_field(where, key, key, known, "a " + op.kind + " operation", elsewhere);
    }
    // With the kind unknown, other fields cannot be judged; the kind's problem says enough.
  }

  if (kind) {
    for (const FieldDecl& f : kind->fields)
      if (f.required && !member(value, f.name))
        p.missing(
            where, f.name,
            "a " + op.kind + " operation needs " + in_quotes(f.name) + ": " + describe(f.type));
  }
  return op;
}

std::string operation_where(const OperationSpec& op, size_t i) {
  return op.id.empty() ? "operation #" + std::to_string(i + 1) : "operation " + in_quotes(op.id);
}

/// Checks the references found in the operations' fields (`found`, in the order of the
/// operations); what an operation references and its depends_on does not list becomes an
/// implicit dependency (in `deps` and its implicit_deps).
void add_references(Problems& p, WorkflowSpec& spec, const IdIndex& index, std::vector<std::vector<size_t>>& deps,
                    std::vector<StreamedOperations::References>& found) {
  ReferenceScope scope{spec,
                       [&](const std::string& id) -> std::optional<size_t> {
                         const size_t at = index.find(id);
                         return at == IdIndex::npos ? std::nullopt : std::optional(at);
                       },
                       [&](size_t i) { return out_shape(spec.operations[i]); },
                       [&](size_t i) {
                         const KindDecl* k = find_kind_decl(spec.operations[i].kind);
                         return k && k->exit_code;
                       },
                       &spec.vars};
  for (StreamedOperations::References& r : found) {
    if (r.error) {
      p.add(std::move(*r.error));
      continue;
    }
    const size_t i = r.index;
    OperationSpec& op = spec.operations[i];
    for (size_t at :
         check_references(r.refs, i, scope, operation_where(op, i), [&](WorkflowError e) { p.add(std::move(e)); })) {
      if (std::find(deps[i].begin(), deps[i].end(), at) != deps[i].end()) continue;
      deps[i].push_back(at);
      op.implicit_deps.push_back(spec.operations[at].id);
    }
  }
}

/// Duplicate ids, unknown and self dependencies, cycles; drops repeats from each depends_on.
/// Returns the graph of the dependencies that name an operation (all of them when there is no
/// problem).
Dag check_graph(Problems& p, WorkflowSpec& spec, std::vector<StreamedOperations::References>& references) {
  const size_t n = spec.operations.size();
  IdIndex index(n);
  std::vector<std::vector<size_t>> duplicates;  // for each id used more than once: its positions
  std::unordered_map<size_t, size_t> duplicate_slot;
  for (size_t i = 0; i < n; ++i) {
    const std::string& id = spec.operations[i].id;
    if (id.empty()) continue;
    const size_t first = index.insert(id, i);
    if (first == i) continue;
    auto [slot, new_slot] = duplicate_slot.emplace(first, duplicates.size());
    if (new_slot) duplicates.push_back({first});
    duplicates[slot->second].push_back(i);
  }
  for (const std::vector<size_t>& positions : duplicates) {
    std::vector<std::string> numbers;
    for (size_t i : positions) numbers.push_back("#" + std::to_string(i + 1));
    p.add("duplicate_id",
          "operation " + in_quotes(spec.operations[positions.front()].id) +
              ": the id is used by operations " + join_all(numbers),
          "give each operation a unique id");
  }

  // Suggestions compare a wrong id with every id; bound that work for huge workflows.
  size_t suggestion_budget = 2'000'000;
  std::vector<std::string> all_ids;
  std::vector<std::vector<size_t>> deps(n);
  // Repeats are found by scanning short lists; long ones mark what they named in here.
  constexpr size_t kShortList = 16;
  std::vector<size_t> last_wanted_by;
  for (size_t i = 0; i < n; ++i) {
    OperationSpec& op = spec.operations[i];
    const bool short_list = op.depends_on.size() <= kShortList;
    if (!short_list && last_wanted_by.empty()) last_wanted_by.assign(n, IdIndex::npos);
    deps[i].reserve(op.depends_on.size());
    size_t kept = 0;
    bool named_itself = false;
    std::vector<std::string_view> unknown;
    for (size_t k = 0; k < op.depends_on.size(); ++k) {
      const std::string& d = op.depends_on[k];
      const size_t at = index.find(d);
      bool repeat;
      if (at == IdIndex::npos)
        repeat = std::find(unknown.begin(), unknown.end(), d) != unknown.end();
      else if (at == i)
        repeat = named_itself;
      else if (short_list)
        repeat = std::find(deps[i].begin(), deps[i].end(), at) != deps[i].end();
      else
        repeat = std::exchange(last_wanted_by[at], i) == i;
      if (repeat) continue;
      if (kept != k) op.depends_on[kept] = std::move(op.depends_on[k]);
      const std::string& dep = op.depends_on[kept++];
      if (at != IdIndex::npos && at != i) {
        deps[i].push_back(at);
        continue;
      }
      const std::string where =
          op.id.empty() ? "operation #" + std::to_string(i + 1) : "operation " + in_quotes(op.id);
      if (at == i) {
        named_itself = true;
        p.add("self_dependency", where + ": depends on itself",
              "remove " + in_quotes(dep) + " from its depends_on");
        continue;
      }
      std::string help = "depends_on lists ids of this workflow's operations";
      if (suggestion_budget >= index.size()) {
        suggestion_budget -= index.size();
        if (all_ids.empty())
          for (const OperationSpec& o : spec.operations)
            if (!o.id.empty()) all_ids.push_back(o.id);
        const std::vector<std::string> near = nearest_names(dep, all_ids, 1);
        if (!near.empty())
          help = "did you mean " + near.front() + "?";
        else if (all_ids.size() <= 8)
          help += ": " + join_all(all_ids);
      }
      unknown.push_back(dep);
      p.add(
          "unknown_dependency",
          where + ": depends on " + in_quotes(dep) + ", which is not an operation of this workflow",
          help);
    }
    op.depends_on.resize(kept);
  }
  add_references(p, spec, index, deps, references);
  Dag dag = make_dag(std::move(deps));
  // Levels are cheaper than components: look for cycles only when there is one.
  if (!compute_levels(dag))
    for (const std::vector<size_t>& cycle : find_cycles(dag)) p.add(cycle_error(spec, cycle));
  return dag;
}

std::string plural(size_t n, const char* one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

/// Builds a Datum straight from the parser's events: no JSON tree in between, keys in the order
/// written. A key repeated in one object keeps its first place and its last value.
class DatumBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  /// Deeper values are refused: nothing in a workflow nests that deep, and a Datum is
  /// destroyed recursively.
  static constexpr size_t kMaxDepth = 256;

  Datum root;
  std::optional<nlohmann::json::exception> error;  ///< set when the syntax is wrong
  size_t error_byte = 0;
  bool too_deep = false;  ///< set when values nest deeper than kMaxDepth

  bool null() override { return put(Datum()); }
  bool boolean(bool v) override { return put(Datum(v)); }
  bool number_integer(number_integer_t v) override { return put(Datum(int64_t{v})); }
  bool number_unsigned(number_unsigned_t v) override {
    return put(v <= static_cast<uint64_t>(INT64_MAX) ? Datum(static_cast<int64_t>(v))
                                                     : Datum(static_cast<double>(v)));
  }
  bool number_float(number_float_t v, const string_t&) override { return put(Datum(v)); }
  bool string(string_t& v) override { return put(Datum(std::move(v))); }
  bool binary(binary_t&) override { return put(Datum()); }  // JSON text has no binary
  bool start_object(std::size_t) override {
    if (open_.size() >= kMaxDepth) return stop_too_deep();
    open_.push_back(place(Datum(DatumRecord{})));
    return true;
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    DatumRecord& record = open_.back()->record();
    if (has_repeated_keys(record)) merge_repeated_keys(record);
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (open_.size() >= kMaxDepth) return stop_too_deep();
    open_.push_back(place(Datum(DatumList{})));
    return true;
  }
  bool end_array() override {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error_byte = position;
    error.emplace(static_cast<const nlohmann::json::exception&>(e));
    return false;
  }

 private:
  bool stop_too_deep() {
    too_deep = true;
    return false;
  }
  bool put(Datum d) {
    place(std::move(d));
    return true;
  }
  /// Stores `d` in the innermost open list or record (under the last key), or as the root.
  /// Pointers to open containers stay valid: only the innermost one grows.
  Datum* place(Datum d) {
    if (open_.empty()) {
      root = std::move(d);
      return &root;
    }
    Datum& into = *open_.back();
    if (into.is_list()) {
      into.list().push_back(std::move(d));
      return &into.list().back();
    }
    into.record().emplace_back(std::move(key_), std::move(d));
    return &into.record().back().second;
  }
  static bool has_repeated_keys(const DatumRecord& record) {
    if (record.size() <= 32) {
      for (size_t i = 1; i < record.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (record[i].first == record[j].first) return true;
      return false;
    }
    std::vector<std::string_view> keys;
    keys.reserve(record.size());
    for (const auto& member : record) keys.push_back(member.first);
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
  }
  static void merge_repeated_keys(DatumRecord& record) {
    std::vector<size_t> by_key(record.size());
    for (size_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
    std::stable_sort(by_key.begin(), by_key.end(),
                     [&](size_t a, size_t b) { return record[a].first < record[b].first; });
    std::vector<char> drop(record.size(), 0);
    for (size_t k = 1; k < by_key.size(); ++k) {
      if (record[by_key[k]].first != record[by_key[k - 1]].first) continue;
      // by_key[k] repeats an earlier key: its value moves to the first place.
      size_t first = k - 1;
      while (first > 0 && drop[by_key[first]]) --first;
      record[by_key[first]].second = std::move(record[by_key[k]].second);
      drop[by_key[k]] = 1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < record.size(); ++i) {
      if (drop[i]) continue;
      if (kept != i) record[kept] = std::move(record[i]);
      ++kept;
    }
    record.resize(kept);
  }

  std::vector<Datum*> open_;
  std::string key_;
};

/// The whole file; nullopt when nothing is at `path`.
std::optional<std::string> read_text(const std::string& path) {
  std::string why;
  std::optional<FileContent> content = read_regular_file(path, Links::follow, why);
  if (!why.empty())
    throw WorkflowError("provisioning::workflow::read", "cannot read " + path + ": " + why,
                        "check that it is a readable file");
  if (!content) return std::nullopt;
  return std::move(content->data);
}

}  // namespace

const std::vector<std::string>& workflow_kinds() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const KindDecl& kind : kind_decls()) out.emplace_back(kind.name);
    return out;
  }();
  return names;
}

namespace {

/// The fields of an operation's record that an outline keeps: `output` (out_shape() reads it)
/// and those named in `keep`, with the id and kind beside them; null when it has none of them.
Datum kept_fields(const Datum& record, const std::vector<std::string>& keep) {
  auto kept = [&](const std::string& key) {
    return key == "output" || std::find(keep.begin(), keep.end(), key) != keep.end();
  };
  const DatumRecord& all = record.record();
  if (std::none_of(all.begin(), all.end(), [&](const auto& m) { return kept(m.first); })) return Datum();
  DatumRecord out;
  for (const auto& [key, value] : all)
    if (key == "id" || key == "kind" || kept(key)) out.emplace_back(key, value);
  return out;
}

/// Reads the next operation into `s`; its record is moved out of `movable` (the same value)
/// when given and its fields are kept.
void add_operation(StreamedOperations& s, const Datum& value, Datum* movable) {
  const size_t number = ++s.count;
  if (s.count > s.limit) return;
  Problems p;
  // The workflow's retry is not known yet: operations' own are read again at the end.
  OperationSpec op = read_operation(p, value, number, RetryPolicy{});
  if (value.is_record()) {
    try {
      std::vector<FieldReference> refs = find_references(value, operation_where(op, number - 1));
      if (!refs.empty()) s.references.push_back({number - 1, std::move(refs), std::nullopt});
    } catch (WorkflowError& e) {
      s.references.push_back({number - 1, {}, std::move(e)});
    }
    if (const Datum* retry = member(value, "retry")) s.retries.emplace_back(number - 1, *retry);
    if (!s.keep_fields)
      op.fields = kept_fields(value, s.keep);
    else
      op.fields = movable ? std::move(*movable) : value;
  }
  for (WorkflowError& e : p.take()) s.problems.push_back(std::move(e));
  s.ops.push_back(std::move(op));
}

/// parse_workflow of the record `doc`, whose operations were read into `s` (doc's own
/// `operations`, when a list, is not looked into).
WorkflowSpec finish_document(const Datum& doc, StreamedOperations& s, const std::string& origin, Dag* dag,
                             const WorkflowSettings& base) {
  Problems p;
  WorkflowSpec spec;
  spec.settings = base;
  std::string where = "workflow from " + origin;

  if (const Datum* name = member(doc, "name")) {
    if (!name->is_string())
      p.wrong_type(where, "name", "a string", *name);
    else if (name->str().empty())
      p.bad_value(where, "'name' is empty", "name the workflow");
    else
      where = "workflow " + in_quotes(spec.name = name->str());
  } else {
    p.missing(where, "name", "name the workflow: name = \"deploy\"");
  }

  for (const auto& [key, value] : doc.record())
    if (std::find(kWorkflowFields.begin(), kWorkflowFields.end(), key) == kWorkflowFields.end())
      p.unknown_field(where, key, key, kWorkflowFields, "a workflow");

  if (const Datum* settings = member(doc, "settings"))
    spec.settings = read_settings(p, where, *settings, base, "settings", false);
  if (const Datum* vars = member(doc, "vars")) {
    if (vars->is_record())
      spec.vars = *vars;
    else
      p.wrong_type(where, "vars", "a record of variables", *vars, "write vars = { name = \"value\" }");
  }

  const Datum* operations = member(doc, "operations");
  if (!operations) {
    p.missing(where, "operations", "list the operations to run");
  } else if (!operations->is_list()) {
    p.wrong_type(where, "operations", "a list of records", *operations);
  } else if (s.count == 0) {
    p.bad_value(where, "'operations' is empty", "a workflow needs at least one operation");
  } else {
    for (WorkflowError& e : s.problems) p.add(std::move(e));
    spec.operations = std::move(s.ops);
    for (const auto& [i, retry] : s.retries) {
      Problems again;  // reported when the operation was read
      spec.operations[i].retry = read_retry(again, where, "retry", retry, spec.settings.retry);
    }
    Dag graph = check_graph(p, spec, s.references);
    if (dag) *dag = std::move(graph);
  }

  const std::vector<WorkflowError>& problems = p.list();
  if (problems.empty()) return spec;
  if (problems.size() == 1) throw problems.front();
  WorkflowError all("provisioning::workflow::invalid",
                    where + (spec.name.empty() ? std::string() : " from " + origin) + " has " +
                        plural(problems.size(), "problem"),
                    "fix each problem listed with it; each has its own code and help",
                    Blame::input());
  all.with_related(std::vector<Error>(problems.begin(), problems.end()));
  throw all;
}

/// parse_workflow; the operations' records are moved out of `movable` (the document's
/// operations) when given, else copied.
WorkflowSpec parse_document(const Datum& doc, const std::string& origin, Dag* dag, DatumList* movable,
                            const WorkflowSettings& base) {
  check_workflow_limits(doc, origin, Limits::process());
  if (!doc.is_record()) {
    Problems p;
    p.add("wrong_type",
          "workflow from " + origin + " must be a record with name, settings and operations, got " + doc.type_name(),
          "give a record like {name: \"deploy\", operations: [...]}");
    throw p.list().front();
  }
  StreamedOperations s;
  if (const Datum* operations = member(doc, "operations"); operations && operations->is_list()) {
    const DatumList& list = operations->list();
    s.ops.reserve(list.size());
    for (size_t k = 0; k < list.size(); ++k) add_operation(s, list[k], movable ? &(*movable)[k] : nullptr);
  }
  return finish_document(doc, s, origin, dag, base);
}

}  // namespace

void check_workflow_limits(const Datum& doc, const std::string& origin, const Limits& limits) {
  const std::string where = "workflow from " + origin;
  check_depth(doc, limits, where, Blame::input());
  if (const Datum* ops = doc.is_record() ? doc.find("operations") : nullptr; ops && ops->is_list())
    check_operations(ops->list().size(), limits, where, Blame::input());
}

WorkflowSpec parse_workflow(const Datum& doc, const std::string& origin, Dag* dag, const WorkflowSettings& base) {
  return parse_document(doc, origin, dag, nullptr, base);
}

WorkflowSpec parse_workflow(Datum&& doc, const std::string& origin, Dag* dag, const WorkflowSettings& base) {
  Datum* operations = doc.is_record() ? doc.find("operations") : nullptr;
  return parse_document(doc, origin, dag,
                        operations && operations->is_list() ? &operations->list() : nullptr, base);
}

WorkflowSettings workspace_settings(const Datum& config) {
  const Datum* table = config.is_record() ? member(config, "workflow") : nullptr;
  if (!table) return {};
  Problems p;
  WorkflowSettings s = read_settings(p, "the configuration", *table, {}, "workflow", true);
  if (p.list().empty()) return s;
  // The same problems a workflow's settings would have, as configuration errors: the
  // configuration is at fault, not the workflow.
  auto as_config = [](const WorkflowError& w) {
    std::string code = w.code();
    code.replace(0, std::string("provisioning::workflow::").size(), "provisioning::config::");
    return ConfigError(code, w.what(), w.help());
  };
  ConfigError e = as_config(p.list().front());
  if (p.list().size() > 1) {
    std::vector<Error> rest;
    for (size_t i = 1; i < p.list().size(); ++i) rest.push_back(as_config(p.list()[i]));
    e.with_related(std::move(rest));
  }
  throw e;
}

Datum parse_workflow_json(std::string_view text, const std::string& path) {
  // The fast reader takes what workflows are made of; nlohmann's parser explains what it
  // does not take, or reads it.
  if (std::optional<Datum> doc = read_plain_json(text, DatumBuilder::kMaxDepth))
    return std::move(*doc);
  DatumBuilder builder;
  if (nlohmann::json::sax_parse(text, &builder)) return std::move(builder.root);
  if (builder.too_deep)
    throw WorkflowError("provisioning::workflow::parse",
                        "invalid JSON in " + path + ": values nest deeper than " +
                            std::to_string(DatumBuilder::kMaxDepth) + " levels",
                        "flatten the data; a workflow needs far fewer levels");
  // The error's byte is 1-based and points at the character that broke the syntax.
  const size_t at =
      std::min<size_t>(builder.error_byte == 0 ? 0 : builder.error_byte - 1, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  const int column = static_cast<int>(at - line_start) + 1;
  std::string reason = builder.error ? builder.error->what() : "syntax error";
  if (const size_t colon = reason.find(": "); colon != std::string::npos)
    reason.erase(0, colon + 2);
  WorkflowError error("provisioning::workflow::parse",
                      "invalid JSON in " + path + " at line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ": " + reason,
                      "fix the JSON syntax at that position");
  error.at(FilePosition{path, line, column});
  throw error;
}

namespace {

/// A workflow file's text, and whether it is JSON (else TOML). Throws what
/// load_workflow_file throws for an unknown extension or a file that cannot be read.
std::string workflow_text(const std::string& path, bool& json) {
  const size_t dot = path.find_last_of("./");
  std::string extension = dot == std::string::npos || path[dot] == '/' ? "" : path.substr(dot);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension != ".toml" && extension != ".json")
    throw WorkflowError(
        "provisioning::workflow::unknown_format",
        "cannot tell the format of " + path +
            (extension.empty() ? " (it has no extension)" : " from its extension " + extension),
        "workflow files end in .toml or .json");
  std::optional<std::string> text = read_text(path);
  if (!text)
    throw WorkflowError("provisioning::workflow::not_found", "no workflow file at " + path,
                        "check the path; a relative path starts at the current directory");
  json = extension == ".json";
  return std::move(*text);
}

Datum parse_workflow_text(const std::string& text, bool json, const std::string& path) {
  if (json) return parse_workflow_json(text, path);
  try {
    return parse_toml(text, path);
  } catch (const ConfigError& e) {
    WorkflowError error("provisioning::workflow::parse", e.what(), e.help());
    if (e.position()) error.at(*e.position());
    throw error;
  }
}

}  // namespace

Datum load_workflow_file(const std::string& path) {
  bool json = false;
  const std::string text = workflow_text(path, json);
  return parse_workflow_text(text, json, path);
}

WorkflowFile read_workflow_file(const std::string& path, const std::vector<std::string>& keep) {
  WorkflowFile file;
  file.path = path;
  bool json = false;
  std::string text = workflow_text(path, json);
  if (json) {
    auto s = std::make_shared<StreamedOperations>();
    s->keep_fields = false;
    s->keep = keep;
    // Past this process's limit the file is refused anyway (parse_workflow_file reads it again
    // to say so): only the count goes on.
    s->limit = static_cast<size_t>(Limits::process().operations);
    const PlainJsonItems items{"operations", [&](size_t n) { s->ops.reserve(std::min(n, s->limit)); },
                               [&](Datum&& op) { add_operation(*s, op, nullptr); }};
    size_t depth = 0;
    std::optional<Datum> doc = read_plain_json(text, DatumBuilder::kMaxDepth, items, &depth);
    if (doc && doc->is_record()) {
      file.document = std::move(*doc);
      file.depth = depth;
      file.streamed = std::move(s);
      return file;
    }
    if (doc) {
      file.document = std::move(*doc);
      return file;
    }
  }
  file.document = parse_workflow_text(text, json, path);
  return file;
}

size_t WorkflowFile::operation_count() const {
  if (streamed) return streamed->count;
  const Datum* ops = document.is_record() ? document.find("operations") : nullptr;
  return ops && ops->is_list() ? ops->list().size() : 0;
}

bool WorkflowFile::exceeds(const Limits& limits) const {
  if (!streamed) return false;
  return depth > static_cast<size_t>(limits.depth) || streamed->count > static_cast<size_t>(limits.operations);
}

std::vector<const Datum*> WorkflowFile::operation_records() const {
  std::vector<const Datum*> out;
  if (streamed) {
    out.reserve(streamed->ops.size());
    for (const OperationSpec& op : streamed->ops) out.push_back(op.fields.is_record() ? &op.fields : nullptr);
  } else if (const Datum* ops = document.is_record() ? document.find("operations") : nullptr; ops && ops->is_list()) {
    out.reserve(ops->list().size());
    for (const Datum& op : ops->list()) out.push_back(&op);
  }
  return out;
}

Datum whole_document(WorkflowFile&& file) {
  if (!file.streamed) return std::move(file.document);
  file.streamed.reset();
  Datum again = load_workflow_file(file.path);
  // The same document with its operations, and whatever was set on it since it was read.
  if (Datum* ops = again.is_record() ? again.find("operations") : nullptr)
    file.document.set("operations", std::move(*ops));
  return std::move(file.document);
}

WorkflowSpec parse_workflow_file(WorkflowFile&& file, const std::string& origin, Dag* dag,
                                 const WorkflowSettings& base) {
  if (!file.streamed || file.exceeds(Limits::process()))
    return parse_workflow(whole_document(std::move(file)), origin, dag, base);
  const std::shared_ptr<StreamedOperations> s = std::move(file.streamed);
  return finish_document(file.document, *s, origin, dag, base);
}

Datum closure_reference(int64_t index) { return DatumRecord{{"session_closure", Datum(index)}}; }

std::optional<int64_t> closure_reference_index(const Datum& d) {
  if (!d.is_record() || d.record().size() != 1) return std::nullopt;
  const Datum* i = d.find("session_closure");
  if (!i || !std::holds_alternative<int64_t>(i->v)) return std::nullopt;
  return std::get<int64_t>(i->v);
}

}  // namespace prov
