#include "core/events/op_log.hpp"

#include <catch2/catch.hpp>

using namespace prov;

namespace {

std::string log_of(std::initializer_list<std::string> records) {
  std::string s(op_log_magic());
  for (const auto& r : records) s += r;
  return s;
}

}  // namespace

TEST_CASE("op log records: one per line, newline-free, with time, attempt, stream and end", "[events][op_log]") {
  CHECK(op_log_records(12, 2, OpLogStream::err, "a\nbc") == "12 2 stderr . a\n12 2 stderr + bc\n");
  CHECK(op_log_records(5, std::nullopt, OpLogStream::prov, "==> x\n") == "5 - prov . ==> x\n");
  CHECK(op_log_records(5, 1, OpLogStream::out, "\n\n") == "5 1 stdout . \n5 1 stdout . \n");
  CHECK(op_log_records(5, 1, OpLogStream::out, "").empty());
  // A line longer than a record holds goes in pieces.
  const std::string big(70000, 'x');
  const std::string recs = op_log_records(1, 1, OpLogStream::out, big + "\n");
  CHECK(recs == "1 1 stdout + " + big.substr(0, 65536) + "\n1 1 stdout . " + big.substr(65536) + "\n");
}

TEST_CASE("op log reader: lines back with their stream, attempt and time; pieces joined per stream",
          "[events][op_log]") {
  const std::string log =
      log_of({op_log_records(1, std::nullopt, OpLogStream::prov, "==> a run\n"),
              op_log_records(2, 1, OpLogStream::out, "one\ntw"), op_log_records(3, 1, OpLogStream::err, "oops\n"),
              op_log_records(4, 1, OpLogStream::out, "o\n"), op_log_records(5, 2, OpLogStream::out, "again")});
  const std::vector<OpLogLine> lines = read_op_log(log);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == OpLogLine{1, std::nullopt, OpLogStream::prov, "==> a run", true});
  CHECK(lines[1] == OpLogLine{2, 1, OpLogStream::out, "one", true});
  CHECK(lines[2] == OpLogLine{3, 1, OpLogStream::err, "oops", true});
  CHECK(lines[3] == OpLogLine{2, 1, OpLogStream::out, "two", true});  // the time its first piece came
  CHECK(lines[4] == OpLogLine{5, 2, OpLogStream::out, "again", true});
  CHECK(op_log_text(log) == "==> a run\none\noops\ntwo\nagain\n");
}

TEST_CASE("op log reader: a line left open ends at the runner's next line or another attempt", "[events][op_log]") {
  const std::string log =
      log_of({op_log_records(1, 1, OpLogStream::out, "half"), op_log_records(2, 2, OpLogStream::out, "next\n"),
              op_log_records(3, 2, OpLogStream::err, "err"), op_log_records(4, 2, OpLogStream::prov, "<== done")});
  const std::vector<OpLogLine> lines = read_op_log(log);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].text == "half");
  CHECK(lines[0].attempt == 1);
  CHECK(lines[1].text == "next");
  CHECK(lines[2].text == "err");
  CHECK(lines[3].text == "<== done");
}

TEST_CASE("op log reader: fed a byte at a time, it reads the same", "[events][op_log]") {
  const std::string log =
      log_of({op_log_records(1, 1, OpLogStream::out, "é\nb"), op_log_records(2, 1, OpLogStream::err, "c\n"),
              op_log_records(3, 1, OpLogStream::out, "d\n")});
  OpLogReader r;
  std::vector<OpLogLine> lines;
  for (char c : log) r.feed(std::string_view(&c, 1), lines);
  r.finish(lines);
  CHECK(lines == read_op_log(log));
  REQUIRE(lines.size() == 3);
  CHECK(lines[2].text == "bd");
}

TEST_CASE("op log reader: a cut last record is read as far as it goes; its bare fields are dropped",
          "[events][op_log]") {
  std::string log = log_of({op_log_records(1, 1, OpLogStream::out, "whole\n")});
  const std::string cut = op_log_records(2, 1, OpLogStream::err, "partial text\n");
  SECTION("cut in the text") {
    const std::vector<OpLogLine> lines = read_op_log(log + cut.substr(0, cut.size() - 6));
    REQUIRE(lines.size() == 2);
    CHECK(lines[1] == OpLogLine{2, 1, OpLogStream::err, "partial", true});
  }
  SECTION("cut in the fields") {
    OpLogReader r;
    std::vector<OpLogLine> lines;
    r.feed(log + "2 1 std", lines);
    r.finish(lines);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text == "whole");
    CHECK(r.unparsed() == 1);
  }
}

TEST_CASE("op log reader: lines that are no records come out with no stream, and are counted", "[events][op_log]") {
  OpLogReader r;
  std::vector<OpLogLine> lines;
  r.feed(log_of({op_log_records(1, 1, OpLogStream::out, "ok\n"), "garbage here\n", "\xff\xfe binary\n",
                 op_log_records(2, 1, OpLogStream::out, "fine\n")}),
         lines);
  r.finish(lines);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == OpLogLine{std::nullopt, std::nullopt, std::nullopt, "garbage here", true});
  CHECK(lines[2].text == "\xff\xfe binary");
  CHECK(lines[3].text == "fine");
  CHECK(r.unparsed() == 2);
}

TEST_CASE("op log reader: an older log of plain text reads as its lines, none counted as bad", "[events][op_log]") {
  OpLogReader r;
  std::vector<OpLogLine> lines;
  r.feed("==> old\nhello\nlast", lines);
  r.finish(lines);
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == OpLogLine{std::nullopt, std::nullopt, std::nullopt, "last", true});
  CHECK(r.unparsed() == 0);
}

TEST_CASE("op log reader: a long line comes in pieces of the bound, not inside a UTF-8 character", "[events][op_log]") {
  std::string text(9, 'y');
  text += "é";  // bytes 9 and 10
  text += "zz";
  OpLogReader r(10);
  std::vector<OpLogLine> lines;
  r.feed(log_of({op_log_records(1, 3, OpLogStream::err, text + "\n")}), lines);
  r.finish(lines);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == std::string(9, 'y'));
  CHECK_FALSE(lines[0].ends_line);
  CHECK(lines[0].attempt == 3);
  CHECK(lines[1].text == "ézz");
  CHECK(lines[1].ends_line);
  std::string joined;
  append_op_log_text(joined, lines);
  CHECK(joined == text + "\n");
}
