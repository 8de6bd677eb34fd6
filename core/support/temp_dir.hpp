#pragma once
/// A private scratch directory that is removed with everything in it when it goes away: for
/// tests and for work that must not leave files behind.

#include <string>

namespace prov {

/// Creates a fresh directory under $TMPDIR (or /tmp) on construction, removes it recursively
/// on destruction. Throws ResourceError `provisioning::resource::temp_dir` when it cannot.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "prov");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// The directory's absolute path, without a trailing slash.
  const std::string& path() const { return path_; }
  /// `path()/relative`.
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }
  /// Writes `content` to `path()/relative`, creating missing parent directories; returns the
  /// file's path.
  std::string write(const std::string& relative, const std::string& content) const;
  /// Creates the directory `path()/relative` and its parents; returns its path.
  std::string mkdir(const std::string& relative) const;

 private:
  std::string path_;  ///< empty only when construction failed
};

}  // namespace prov
