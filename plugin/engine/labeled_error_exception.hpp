#pragma once
/// A LabeledError thrown out of a command; the server sends it as the call's error response.

#include <exception>

#include "plugin/protocol/value.hpp"

namespace prov::plugin {

class LabeledErrorException : public std::exception {
 public:
  explicit LabeledErrorException(LabeledError e) : error_(std::move(e)) {}
  const char* what() const noexcept override { return error_.msg.c_str(); }
  const LabeledError& error() const { return error_; }

 private:
  LabeledError error_;
};

/// Shorthand for an error with one label, a stable code and a help line.
inline LabeledErrorException labeled(std::string msg, std::string label, Span span, std::string code,
                                     std::string help = {}) {
  LabeledError e;
  e.msg = std::move(msg);
  e.labels.push_back({std::move(label), span});
  e.code = std::move(code);
  if (!help.empty()) e.help = std::move(help);
  return LabeledErrorException(std::move(e));
}

}  // namespace prov::plugin
