// A command's input, collected: list streams and byte streams over their limits stop with a
// labeled error at the input, and the rest of the stream is dropped.

#include "plugin/engine/pipeline.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "plugin/engine/connection.hpp"
#include "plugin/engine/labeled_error_exception.hpp"

using namespace prov::plugin;

namespace {

PipelineDataHeader stream_header(PipelineDataHeader::Kind kind) {
  PipelineDataHeader h;
  h.kind = kind;
  h.stream_id = 3;
  h.span = Span{10, 20};
  return h;
}

StreamData item(int64_t n) {
  StreamData d;
  d.value = Value::integer(n);
  return d;
}

}  // namespace

TEST_CASE("collect stops a list stream over limits.stream_length", "[pipeline][limits]") {
  const int sink = ::open("/dev/null", O_WRONLY);
  REQUIRE(sink >= 0);
  Connection conn(make_codec("json"), sink);
  prov::Limits limits;
  limits.stream_length = 5;
  SECTION("at the limit: the whole list") {
    auto s = std::make_shared<InputStream>();
    for (int i = 0; i < 5; ++i) s->push(item(i));
    s->end();
    PipelineInput in(stream_header(PipelineDataHeader::Kind::ListStream), s, &conn);
    CHECK(in.collect(limits).as_list().size() == 5);
  }
  SECTION("one over: a labeled error at the input, before the stream ends") {
    auto s = std::make_shared<InputStream>();
    for (int i = 0; i < 6; ++i) s->push(item(i));  // never ended: collect must not wait for it
    PipelineInput in(stream_header(PipelineDataHeader::Kind::ListStream), s, &conn);
    try {
      in.collect(limits);
      FAIL("collected");
    } catch (const LabeledErrorException& e) {
      CHECK(e.error().code == "provisioning::limits::stream_length");
      CHECK_THAT(e.error().msg, Catch::Contains("more than 5 items"));
      REQUIRE(e.error().labels.size() == 1);
      CHECK(e.error().labels[0].span.start == 10);
      CHECK_THAT(*e.error().help, Catch::Contains("PROVISIONING_LIMITS_STREAM_LENGTH"));
    }
  }
  SECTION("a byte stream over limits.message_size") {
    limits.message_size = 8;
    auto s = std::make_shared<InputStream>();
    StreamData chunk;
    chunk.is_list = false;
    chunk.bytes.assign(6, 'x');
    s->push(chunk);
    s->push(chunk);
    PipelineInput in(stream_header(PipelineDataHeader::Kind::ByteStream), s, &conn);
    CHECK_THROWS_AS(in.collect(limits), LabeledErrorException);
  }
  ::close(sink);
}
