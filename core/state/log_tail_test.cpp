#include "core/state/log_tail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/etcd/etcd_test_cluster.hpp"
#include "core/state/etcd_store.hpp"
#include "core/state/file_io.hpp"
#include "core/state/file_store.hpp"
#include "core/state/store_test_support.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using prov::testing::error_code;
using prov::testing::header_for;
using namespace std::chrono_literals;

namespace {

std::string read_all(int fd) { return prov::read_all(fd, "the log"); }

std::string tail_of(const std::string& content, size_t limit, uint64_t& size) {
  const UniqueFd f = memory_file(content);
  return read_log_tail(f.get(), limit, "test", size);
}

EtcdStoreOptions host_options(const std::string& prefix, const TempDir& ws, const std::string& host) {
  EtcdSettings s;
  s.endpoints = testing::shared_etcd_cluster().endpoints();
  s.prefix = prefix;
  s.lease_ttl = 2s;
  s.request_timeout = 3s;
  return EtcdStoreOptions{s, ws / ".provisioning", ws.path(), host};
}

void write_log(const WorkflowStore& store, const std::string& id, const std::string& op, const std::string& text) {
  store.local_files(id);
  std::ofstream(store.operation_log_path(id, op), std::ios::binary) << text;
}

}  // namespace

TEST_CASE("log tail: a short log is kept whole, a long one from the start of a line", "[log_tail]") {
  uint64_t size = 0;
  CHECK(tail_of("one\ntwo\n", 64, size) == "one\ntwo\n");
  CHECK(size == 8);
  CHECK(tail_of("", 64, size).empty());
  CHECK(size == 0);
  // Its last 8 bytes are "bb\ncccc\n": cut after the first newline.
  CHECK(tail_of("aaaa\nbbbb\ncccc\n", 8, size) == "cccc\n");
  CHECK(size == 15);
  // No newline in the last bytes: not inside a UTF-8 character ("é" is two bytes).
  CHECK(tail_of("xxé" + std::string("é"), 3, size) == "é");
}

TEST_CASE("log tail: kept as a value and read back; anything else is refused", "[log_tail]") {
  const LogTail t{"host-a", "/ws/.provisioning/workflows/x/logs/op1.log", 12345, std::string("bin\0ary\xff\n", 9)};
  const auto back = decode_log_tail(encode_log_tail(t));
  REQUIRE(back);
  CHECK(back->host == t.host);
  CHECK(back->path == t.path);
  CHECK(back->size == t.size);
  CHECK(back->bytes == t.bytes);
  CHECK_FALSE(decode_log_tail("no header line"));
  CHECK_FALSE(decode_log_tail("{\"host\": 1}\nx"));
}

TEST_CASE("log tail: the file store reads its own whole log and keeps nothing more", "[log_tail]") {
  TempDir ws("prov-log-tail");
  FileStore store(ws / ".provisioning", ws.path());
  const std::string id = store.create_workflow(header_for, Datum());
  auto claim = store.claim(id, 0ms);
  CHECK_FALSE(store.read_operation_log(id, "op1").fd);
  write_log(store, id, "op1", std::string(100000, 'x') + "\nlast\n");
  store.keep_log_tail(*claim, "op1");
  OperationLog log = store.read_operation_log(id, "op1");
  REQUIRE(log.fd);
  CHECK(log.host.empty());
  CHECK_FALSE(log.tail_only);
  CHECK(read_all(log.fd.get()).size() == 100006);
}

TEST_CASE("log tail: on the etcd store another host reads the end of a log, told where the whole is",
          "[log_tail][etcd_store]") {
  const std::string prefix = "/test/log-tail-" + std::to_string(::getpid());
  TempDir ws_a("prov-log-tail"), ws_b("prov-log-tail");
  EtcdStore a(host_options(prefix, ws_a, "host-a"));
  EtcdStore b(host_options(prefix, ws_b, "host-b"));
  const std::string id = a.create_workflow(header_for, Datum());
  auto claim = a.claim(id, 0ms);
  // Nothing kept yet: host b has nothing to show, host a its own log.
  write_log(a, id, "big", std::string(kLogTailBytes, 'x') + "\nend of big\n");
  write_log(a, id, "small", "hello\n");
  CHECK_FALSE(b.read_operation_log(id, "big").fd);
  a.keep_log_tail(*claim, "big");
  a.keep_log_tail(*claim, "small");
  a.keep_log_tail(*claim, "silent");  // printed nothing: nothing kept

  OperationLog big = b.read_operation_log(id, "big");
  REQUIRE(big.fd);
  CHECK(big.tail_only);
  CHECK(big.host == "host-a");
  CHECK(big.path == a.operation_log_path(id, "big"));
  CHECK(big.size == kLogTailBytes + 12);
  CHECK(read_all(big.fd.get()) == "end of big\n");

  OperationLog small = b.read_operation_log(id, "small");
  REQUIRE(small.fd);
  CHECK_FALSE(small.tail_only);
  CHECK(small.host == "host-a");
  CHECK(read_all(small.fd.get()) == "hello\n");
  CHECK_FALSE(b.read_operation_log(id, "silent").fd);

  // The host that wrote it reads its whole log.
  OperationLog own = a.read_operation_log(id, "big");
  REQUIRE(own.fd);
  CHECK(own.host.empty());
  CHECK(read_all(own.fd.get()).size() == kLogTailBytes + 12);

  // A runner that lost its claim keeps nothing (fencing).
  claim->release();
  write_log(a, id, "small", "changed\n");
  CHECK(error_code([&] { a.keep_log_tail(*claim, "small"); }) == "provisioning::state::claim_lost");
  CHECK(read_all(b.read_operation_log(id, "small").fd.get()) == "hello\n");
}
