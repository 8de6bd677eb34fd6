#include "core/ops/op_result.hpp"

namespace prov {

std::string output_tail(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  bool cut = false;
  if (text.size() > kOutputTailBytes) {
    text = text.substr(text.size() - kOutputTailBytes);
    cut = true;
  }
  size_t lines = 0;
  for (size_t i = text.size(); i-- > 0;) {
    if (text[i] == '\n' && ++lines == kOutputTailLines) {
      text = text.substr(i + 1);
      cut = false;  // it starts at a whole line now
      break;
    }
  }
  if (cut) {
    // Drop the partial UTF-8 sequence the byte bound may have cut.
    size_t skip = 0;
    while (skip < text.size() && (static_cast<unsigned char>(text[skip]) & 0xC0) == 0x80) ++skip;
    return "…" + std::string(text.substr(skip));
  }
  return std::string(text);
}

OpResult op_succeeded(std::string message, Datum undo) {
  OpResult r;
  r.ok = true;
  r.message = std::move(message);
  r.undo = std::move(undo);
  return r;
}

OpResult op_failed(std::string code, std::string message) {
  OpResult r;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

}  // namespace prov
