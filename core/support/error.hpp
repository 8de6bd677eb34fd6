#pragma once
/// Typed errors that cross from the core to its callers. Each carries what a user needs to act:
/// a stable code, a message, a help line, and where the fault lies (a file position, or which
/// input of the caller it came from) so the plugin can point a label at it.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace prov {

/// Which part of the caller's request an error is about, so the caller can attach its own
/// source location (for the plugin: the span of that argument or of the pipeline input).
struct Blame {
  enum class Kind { none, input, argument, flag };
  Kind kind = Kind::none;
  std::string name;  ///< the argument's or flag's name for argument/flag
  static Blame input() { return {Kind::input, {}}; }
  static Blame argument(std::string n) { return {Kind::argument, std::move(n)}; }
  static Blame flag(std::string n) { return {Kind::flag, std::move(n)}; }
};

/// A position inside a file the core read.
struct FilePosition {
  std::string path;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown
};

/// Base of every core error. `code` is stable (`provisioning::config::parse`), `what()` is
/// the one-line message, `help` says what to do.
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message, std::string help = {}, Blame blame = {})
      : std::runtime_error(message), code_(std::move(code)), help_(std::move(help)),
        blame_(std::move(blame)) {}

  const std::string& code() const { return code_; }
  const std::string& help() const { return help_; }
  const Blame& blame() const { return blame_; }
  const std::optional<FilePosition>& position() const { return position_; }
  /// Further problems reported together with this one (validation reports them all at once).
  const std::vector<Error>& related() const { return related_; }

  Error& at(FilePosition p) { position_ = std::move(p); return *this; }
  Error& blamed_on(Blame b) { blame_ = std::move(b); return *this; }
  Error& with_related(std::vector<Error> r) { related_ = std::move(r); return *this; }

 private:
  std::string code_;
  std::string help_;
  Blame blame_;
  std::optional<FilePosition> position_;
  std::vector<Error> related_;
};

/// Configuration could not be read, merged or interpolated.
class ConfigError : public Error { using Error::Error; };
/// A provider failed or misbehaved.
class ProviderError : public Error { using Error::Error; };
/// A workflow is invalid or failed.
class WorkflowError : public Error { using Error::Error; };
/// A resource (file, state, lock) could not be used.
class ResourceError : public Error { using Error::Error; };

}  // namespace prov
