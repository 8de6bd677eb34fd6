#pragma once
/// Whole-file replacement that a crash cannot leave half done, and reading what a file held
/// before (so that it can be put back).

#include <optional>
#include <string>
#include <string_view>

namespace prov {

/// A regular file's bytes and permission bits.
struct FileContent {
  std::string data;
  unsigned mode = 0644;  ///< permission bits (07777 at most)
  bool operator==(const FileContent&) const = default;
};

/// How read_regular_file treats a symbolic link at `path`.
enum class Links { follow, refuse };

/// The regular file at `path`. nullopt with `why` empty when nothing is there (with
/// Links::follow, also when a parent is not a directory); nullopt with `why` saying what is
/// wrong when something is there but is not a regular file or cannot be read (with
/// Links::refuse a symlink is such a thing). Throws nothing: callers raise their own error.
std::optional<FileContent> read_regular_file(const std::string& path, Links links, std::string& why);

/// The file at `path` when there is one; nullopt when nothing is there. A symlink is not
/// followed. Throws ResourceError `provisioning::resource::read` when something is there but
/// is not a regular file or cannot be read.
std::optional<FileContent> read_file_if_exists(const std::string& path);

/// Replaces (or creates) the file at `path` with `data` and exactly `mode` (whatever the umask):
/// written to a temporary file in the same directory, fsynced, renamed over `path`, then the
/// directory fsynced. Readers see the old file or the new one, never a mix; a crash may leave
/// a `.<name>.tmp-XXXXXX` file behind, never a partial `path`. A symlink at `path` is
/// replaced, not followed. Throws ResourceError `provisioning::resource::write`.
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644);

/// Removes the file at `path` (nothing there is fine) and fsyncs its directory. Throws
/// ResourceError `provisioning::resource::write`.
void remove_file_durable(const std::string& path);

}  // namespace prov
