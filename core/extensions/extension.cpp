#include "core/extensions/extension.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/config/toml_file.hpp"
#include "core/support/error.hpp"
#include "core/support/version.hpp"

namespace prov {

namespace fs = std::filesystem;

namespace {

bool good_name(const std::string& n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

/// The string field `key` of `table`; a problem when it is missing (and `required`) or not a string.
std::string string_field(const Datum& table, const std::string& section, const std::string& key, bool required,
                         std::vector<std::string>& problems) {
  const Datum* d = table.find(key);
  if (!d) {
    if (required) problems.push_back("[" + section + "] " + key + " is missing");
    return "";
  }
  if (!d->is_string()) {
    problems.push_back("[" + section + "] " + key + " must be a string, not " + d->type_name());
    return "";
  }
  return d->str();
}

bool inside(const fs::path& child, const fs::path& root) {
  auto r = root.begin(), c = child.begin();
  for (; r != root.end(); ++r, ++c)
    if (c == child.end() || *r != *c) return false;
  return true;
}

/// Checks one entry point; returns its absolute path, or "" after adding a problem.
std::string check_entry_point(const fs::path& folder, const std::string& name, const Datum& value,
                              std::vector<std::string>& problems) {
  const std::string where = "entry point `" + name + "`";
  if (!value.is_string() || value.str().empty()) {
    problems.push_back(where + " must be a path (a non-empty string), not " +
                       (value.is_string() ? std::string("an empty string") : value.type_name()));
    return "";
  }
  const fs::path rel(value.str());
  if (rel.is_absolute()) {
    problems.push_back(where + " (" + value.str() + ") must be relative to the extension's folder");
    return "";
  }
  for (const auto& part : rel)
    if (part == "..") {
      problems.push_back(where + " (" + value.str() + ") leads out of the extension's folder (`..`)");
      return "";
    }
  std::error_code ec;
  const fs::path full = folder / rel;
  if (!fs::exists(full, ec)) {
    problems.push_back(where + " (" + value.str() + ") does not exist");
    return "";
  }
  const fs::path real = fs::canonical(full, ec);
  const fs::path root = fs::canonical(folder, ec);
  if (ec || !inside(real, root)) {
    problems.push_back(where + " (" + value.str() + ") is a symlink leading out of the extension's folder, to " +
                       real.string());
    return "";
  }
  if (!fs::is_regular_file(real, ec)) {
    problems.push_back(where + " (" + value.str() + ") is not a file");
    return "";
  }
  return real.string();
}

}  // namespace

const SemVer& plugin_semver() {
  static const SemVer v = [] {
    std::string why;
    return SemVer::parse(kVersion, why).value_or(SemVer{});
  }();
  return v;
}

std::string Extension::entry_point(const std::string& n) const {
  for (const auto& [k, p] : entry_points)
    if (k == n) return p;
  return "";
}

Datum Extension::to_datum() const {
  DatumRecord eps;
  for (const auto& [k, p] : entry_points) eps.emplace_back(k, Datum(p));
  DatumList probs;
  for (const auto& p : problems) probs.emplace_back(p);
  return Datum(DatumRecord{{"name", Datum(name)},
                           {"version", Datum(version)},
                           {"kind", Datum(type)},  // [extension] type: `kind`, as for providers and operations
                           {"description", Datum(description)},
                           {"path", Datum(path)},
                           {"valid", Datum(valid)},
                           {"compatible", Datum(compatible)},
                           {"compatibility", Datum(compatibility)},
                           {"entry_points", Datum(std::move(eps))},
                           {"problems", Datum(std::move(probs))}});
}

Extension read_extension(const std::string& folder_text, const SemVer& plugin_version) {
  Extension e;
  const fs::path folder(folder_text);
  e.path = folder_text;
  e.name = folder.filename().string();
  const std::string manifest = (folder / "extension.toml").string();
  std::vector<std::string>& problems = e.problems;

  std::optional<Datum> doc;
  try {
    doc = read_toml_file(manifest);
  } catch (const Error& err) {
    problems.push_back(std::string("extension.toml cannot be read: ") + err.what());
    return e;
  }
  if (!doc) {
    problems.push_back("extension.toml is missing");
    return e;
  }

  const Datum* ext = doc->find("extension");
  if (!ext || !ext->is_record()) {
    problems.push_back(ext ? "[extension] must be a table, not " + ext->type_name() : "[extension] is missing");
  } else {
    if (std::string n = string_field(*ext, "extension", "name", true, problems); !n.empty()) {
      if (good_name(n)) e.name = n;
      else problems.push_back("[extension] name `" + n + "` may hold only letters, digits, '-' and '_'");
    }
    e.version = string_field(*ext, "extension", "version", true, problems);
    if (!e.version.empty()) {
      std::string why;
      if (!SemVer::parse(e.version, why)) problems.push_back("[extension] version: " + why);
    }
    e.type = string_field(*ext, "extension", "type", true, problems);
    if (!e.type.empty() && std::find(kExtensionTypes.begin(), kExtensionTypes.end(), e.type) == kExtensionTypes.end())
      problems.push_back("[extension] type `" + e.type + "` is not one of provider, taskserv, cluster, workflow");
    e.description = string_field(*ext, "extension", "description", false, problems);
    const Datum* eps = ext->find("entry_points");
    if (!eps) {
      problems.push_back("[extension] entry_points is missing");
    } else if (!eps->is_record()) {
      problems.push_back("[extension] entry_points must be a table of name = \"path\", not " + eps->type_name());
    } else if (eps->record().empty()) {
      problems.push_back("[extension] entry_points is empty");
    } else {
      for (const auto& [name, value] : eps->record())
        if (std::string p = check_entry_point(folder, name, value, problems); !p.empty())
          e.entry_points.emplace_back(name, p);
    }
    if (e.type == "provider") {
      const Datum* p = eps && eps->is_record() ? eps->find("provider") : nullptr;
      if (!p) problems.push_back("a provider extension needs the entry point `provider` (its nulib/provider.nu)");
      else if (p->is_string() && fs::path(p->str()).lexically_normal() != fs::path("nulib/provider.nu"))
        problems.push_back("entry point `provider` must be nulib/provider.nu (where providers keep their module), not " +
                           p->str());
    }
  }

  const Datum* compat = doc->find("compatibility");
  bool range_ok = false;
  if (!compat || !compat->is_record()) {
    problems.push_back(compat ? "[compatibility] must be a table, not " + compat->type_name()
                              : "[compatibility] is missing (say which plugin versions it works with: "
                                "provisioning = \">=0.1.0, <0.2.0\")");
  } else {
    e.compatibility = string_field(*compat, "compatibility", "provisioning", true, problems);
    if (!e.compatibility.empty()) {
      std::string why;
      if (auto range = VersionRange::parse(e.compatibility, why)) {
        range_ok = true;
        e.compatible = range->matches(plugin_version);
      } else {
        problems.push_back("[compatibility] provisioning: " + why);
      }
    }
  }
  e.valid = problems.empty();
  if (range_ok && !e.compatible)
    problems.push_back("needs provisioning " + e.compatibility + "; this plugin is " + plugin_version.to_string());
  return e;
}

std::vector<Extension> discover_extensions(const std::string& dir, const SemVer& plugin_version) {
  std::vector<Extension> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec) && fs::exists(entry.path() / "extension.toml", ec)) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  for (const auto& f : folders) out.push_back(read_extension(f.string(), plugin_version));
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < out.size(); ++i) by_name[out[i].name].push_back(i);
  for (const auto& [name, idx] : by_name) {
    if (idx.size() < 2) continue;
    for (size_t i : idx) {
      std::string others;
      for (size_t j : idx)
        if (j != i) others += (others.empty() ? "" : ", ") + out[j].path;
      out[i].problems.push_back("another extension has the name `" + name + "`: " + others);
      out[i].valid = false;
    }
  }
  return out;
}

std::vector<Extension> workspace_extensions(const Datum& config, const std::string& workspace) {
  std::string dir = workspace + "/extensions";
  if (const Datum* paths = config.find("paths"))
    if (const Datum* e = paths->find("extensions"); e && e->is_string() && !e->str().empty()) dir = e->str();
  return discover_extensions(dir, plugin_semver());
}

}  // namespace prov
