#pragma once
/// Extensions: folders under the workspace's extensions directory, each described by an
/// `extension.toml`:
///
///   [extension]
///   name = "hetzner"              # letters, digits, '-' and '_'
///   version = "1.2.0"             # a semantic version
///   type = "provider"             # provider, taskserv, cluster or workflow
///   description = "…"             # optional
///   entry_points = { provider = "nulib/provider.nu" }   # name → file inside the folder
///   [compatibility]
///   provisioning = ">=0.1.0, <0.3.0"                    # the plugin versions it works with
///
/// Discovery validates each one and never loads an invalid or incompatible one: it is listed
/// with its problems instead.

#include <string>
#include <utility>
#include <vector>

#include "core/extensions/semver.hpp"
#include "core/support/datum.hpp"

namespace prov {

/// Extension types this plugin knows.
inline const std::vector<std::string> kExtensionTypes = {"provider", "taskserv", "cluster", "workflow"};

/// One discovered extension, valid or not.
struct Extension {
  std::string name;         ///< from the manifest; the folder's name when the manifest has none
  std::string version;      ///< as written ("" when missing)
  std::string type;
  std::string description;
  std::string path;         ///< the extension's folder
  std::string compatibility;  ///< the range as written
  /// entry point name → absolute path of the file, for the entry points that passed the checks
  std::vector<std::pair<std::string, std::string>> entry_points;
  bool valid = false;       ///< the manifest is well formed and every entry point stays inside
  bool compatible = false;  ///< the compatibility range holds the plugin's version
  std::vector<std::string> problems;  ///< everything wrong, each naming the field or file

  /// Valid and compatible: the only extensions that may be used.
  bool usable() const { return valid && compatible; }
  /// The entry point `name`'s path, or "" when there is none.
  std::string entry_point(const std::string& name) const;
  /// name, version, type, description, path, valid, compatible, compatibility, entry_points, problems.
  Datum to_datum() const;
};

/// Reads and validates the extension in `folder` against the plugin's version.
Extension read_extension(const std::string& folder, const SemVer& plugin_version);

/// Every `<dir>/*/extension.toml`, sorted by folder name; a folder without a manifest is not an
/// extension and is skipped. Two extensions with one name are both marked invalid. A missing
/// `dir` gives an empty list.
std::vector<Extension> discover_extensions(const std::string& dir, const SemVer& plugin_version);

/// The workspace's extensions: discover_extensions of `paths.extensions` in `config` (the
/// merged configuration), else `<workspace>/extensions`, against the plugin's version.
std::vector<Extension> workspace_extensions(const Datum& config, const std::string& workspace);

/// The plugin's own version (kVersion) as a SemVer.
const SemVer& plugin_semver();

}  // namespace prov
