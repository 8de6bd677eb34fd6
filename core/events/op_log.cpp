#include "core/events/op_log.hpp"

#include <charconv>
#include <chrono>

namespace prov {

namespace {

constexpr size_t kMaxRecordText = size_t{1} << 16;  ///< a longer line is written in pieces
constexpr std::string_view kMagic = "prov-op-log 1\n";

void append_record(std::string& out, std::string_view head, std::string_view text, bool ends) {
  out += head;
  out += ends ? ". " : "+ ";
  out += text;
  out += '\n';
}

/// `text` parsed as a record; nullopt when it is none.
std::optional<OpLogLine> parse_record(std::string_view line) {
  auto field = [&](std::string_view& f) {
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    f = line.substr(0, sp);
    line.remove_prefix(sp + 1);
    return true;
  };
  std::string_view time, attempt, stream, end;
  if (!field(time) || !field(attempt) || !field(stream) || !field(end)) return std::nullopt;
  OpLogLine l;
  int64_t t = 0;
  if (auto [p, ec] = std::from_chars(time.data(), time.data() + time.size(), t);
      ec != std::errc() || p != time.data() + time.size() || t < 0)
    return std::nullopt;
  l.time = t;
  if (attempt != "-") {
    int a = 0;
    if (auto [p, ec] = std::from_chars(attempt.data(), attempt.data() + attempt.size(), a);
        ec != std::errc() || p != attempt.data() + attempt.size() || a < 0)
      return std::nullopt;
    l.attempt = a;
  }
  if (stream == "stdout")
    l.stream = OpLogStream::out;
  else if (stream == "stderr")
    l.stream = OpLogStream::err;
  else if (stream == "prov")
    l.stream = OpLogStream::prov;
  else
    return std::nullopt;
  if (end != "." && end != "+") return std::nullopt;
  l.ends_line = end == ".";
  l.text = std::string(line);
  return l;
}

}  // namespace

std::string_view op_log_stream_name(OpLogStream s) {
  switch (s) {
    case OpLogStream::out: return "stdout";
    case OpLogStream::err: return "stderr";
    case OpLogStream::prov: break;
  }
  return "prov";
}

std::string_view op_log_magic() { return kMagic; }

int64_t op_log_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_op_log_records(std::string& out, int64_t unix_ns, std::optional<int> attempt, OpLogStream s,
                           std::string_view bytes) {
  char head[64];
  char* p = std::to_chars(head, head + 24, unix_ns).ptr;
  *p++ = ' ';
  if (attempt)
    p = std::to_chars(p, p + 12, *attempt).ptr;
  else
    *p++ = '-';
  *p++ = ' ';
  const std::string_view name = op_log_stream_name(s);
  p = std::copy(name.begin(), name.end(), p);
  *p++ = ' ';
  const std::string_view h(head, static_cast<size_t>(p - head));
  out.reserve(out.size() + bytes.size() + (bytes.size() / 64 + 1) * (h.size() + 3));
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const size_t len = std::min(nl == std::string_view::npos ? bytes.size() : nl, kMaxRecordText);
    const bool ends = len == nl;
    append_record(out, h, bytes.substr(0, len), ends);
    bytes.remove_prefix(len + (ends ? 1 : 0));
  }
}

std::string op_log_records(int64_t unix_ns, std::optional<int> attempt, OpLogStream s, std::string_view bytes) {
  std::string out;
  append_op_log_records(out, unix_ns, attempt, s, bytes);
  return out;
}

void OpLogReader::emit_long(OpLogLine& line, std::vector<OpLogLine>& out) {
  while (line.text.size() >= max_line_ && max_line_ > 0) {
    size_t take = max_line_;
    // Not inside a UTF-8 character: back off over continuation bytes.
    for (int k = 0; k < 3 && take > 1 && (static_cast<unsigned char>(line.text[take]) & 0xC0) == 0x80; ++k) --take;
    OpLogLine piece{line.time, line.attempt, line.stream, line.text.substr(0, take), false};
    line.text.erase(0, take);
    out.push_back(std::move(piece));
  }
}

void OpLogReader::flush(size_t stream, std::vector<OpLogLine>& out) {
  Open& o = open_[stream];
  if (!o.open) return;
  o.open = false;
  o.line.ends_line = true;
  out.push_back(std::move(o.line));
  o.line = OpLogLine{};
}

void OpLogReader::flush_all(std::vector<OpLogLine>& out) {
  flush(0, out);
  flush(1, out);
}

void OpLogReader::take_line(std::string_view line, std::vector<OpLogLine>& out) {
  if (first_) {
    first_ = false;
    if (line == kMagic.substr(0, kMagic.size() - 1)) {
      ours_ = true;
      return;
    }
  }
  std::optional<OpLogLine> r = parse_record(line);
  if (!r) {
    if (ours_) ++unparsed_;
    OpLogLine raw;
    raw.text = std::string(line);
    emit_long(raw, out);
    out.push_back(std::move(raw));
    return;
  }
  if (*r->stream == OpLogStream::prov) {
    flush_all(out);  // the action's output ended where the runner wrote
    out.push_back(std::move(*r));
    return;
  }
  const size_t i = *r->stream == OpLogStream::out ? 0 : 1;
  Open& o = open_[i];
  if (o.open && o.line.attempt != r->attempt) flush(i, out);
  if (!o.open) {
    o.line = OpLogLine{r->time, r->attempt, r->stream, {}, true};
    o.open = true;
  }
  o.line.text += r->text;
  emit_long(o.line, out);
  if (r->ends_line) flush(i, out);
}

void OpLogReader::feed(std::string_view bytes, std::vector<OpLogLine>& out) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(bytes);
      if (partial_.size() >= max_line_ + 128) {
        // Far longer than any record: a line of text, given in pieces.
        OpLogLine raw;
        raw.text = std::move(partial_);
        partial_.clear();
        first_ = false;
        if (ours_) ++unparsed_;
        emit_long(raw, out);
        partial_ = std::move(raw.text);
      }
      return;
    }
    if (partial_.empty()) {
      take_line(bytes.substr(0, nl), out);
    } else {
      partial_.append(bytes.substr(0, nl));
      take_line(partial_, out);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void OpLogReader::finish(std::vector<OpLogLine>& out) {
  if (!partial_.empty()) {
    // A cut last record (a crash in mid-write) is read as far as it goes; what is left of its
    // fields alone is no line at all.
    std::string line = std::move(partial_);
    partial_.clear();
    if (!ours_ || parse_record(line))
      take_line(line, out);
    else
      ++unparsed_;
  }
  flush_all(out);
}

std::vector<OpLogLine> read_op_log(std::string_view text) {
  std::vector<OpLogLine> out;
  OpLogReader r;
  r.feed(text, out);
  r.finish(out);
  return out;
}

void append_op_log_text(std::string& out, const std::vector<OpLogLine>& lines) {
  for (const OpLogLine& l : lines) {
    out += l.text;
    if (l.ends_line) out += '\n';
  }
}

std::string op_log_text(std::string_view text) {
  std::string out;
  append_op_log_text(out, read_op_log(text));
  return out;
}

}  // namespace prov
