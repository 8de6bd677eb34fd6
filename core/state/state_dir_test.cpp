#include "core/state/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/state/journal.hpp"
#include "core/state/state_name.hpp"
#include "core/support/error.hpp"
#include "core/support/temp_dir.hpp"

using namespace prov;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "no error";
}

}  // namespace

TEST_CASE("state_dir: workflow ids sort by time and have one shape", "[state_dir]") {
  using namespace std::chrono;
  const auto t = sys_days{year{2026} / 11 / 26} + 20h + 30min + 5s;
  const std::string id = new_workflow_id(t);
  CHECK(id.rfind("wf-20261126-203005-", 0) == 0);
  CHECK(is_workflow_id(id));
  CHECK(new_workflow_id(t + 1s) > id);
  CHECK(new_workflow_id(t + 24h) > new_workflow_id(t + 1s));
  CHECK(new_workflow_id(t) != new_workflow_id(t));  // 24 random bits each; a clash is 1 in 16M

  CHECK(is_workflow_id("wf-20261126-203000-1a2b3c"));
  CHECK_FALSE(is_workflow_id("wf-20261126-203000-1A2B3C"));
  CHECK_FALSE(is_workflow_id("wf-20261126-203000-1a2b3"));
  CHECK_FALSE(is_workflow_id("wf-20261126-203000-1a2b3cd"));
  CHECK_FALSE(is_workflow_id("../../../etc/passwd"));
  CHECK_FALSE(is_workflow_id("wf-20261126-203000/1a2b3c"));
  CHECK_FALSE(is_workflow_id("wf-2026112..203000-1a2b3c"));
  CHECK_FALSE(is_workflow_id(""));
}

TEST_CASE("state_dir: created 0700 with its layout, whatever the umask", "[state_dir]") {
  TempDir ws("prov-ws");
  const mode_t old_umask = ::umask(0);
  const StateDir state = StateDir::open(ws / ".provisioning/nested", ws.path());
  const std::string id = state.create_workflow();
  Journal::create(state.journal_path(id), DatumRecord{{"workflow_id", id}});
  const FileLock lock = state.lock_workspace();
  const FileLock runner = state.lock_runner(id);
  ::umask(old_umask);

  CHECK(state.path() == ws / ".provisioning/nested");
  CHECK(is_workflow_id(id));
  CHECK(mode_of(ws / ".provisioning") == 0700);
  CHECK(mode_of(state.path()) == 0700);
  CHECK(mode_of(state.workflows_dir()) == 0700);
  CHECK(mode_of(state.workflow_dir(id)) == 0700);
  CHECK(mode_of(state.logs_dir(id)) == 0700);
  CHECK(mode_of(state.journal_path(id)) == 0600);
  CHECK(mode_of(state.workspace_lock_path()) == 0600);
  CHECK(mode_of(state.runner_lock_path(id)) == 0600);
  CHECK(state.journal_path(id) == ws / ".provisioning/nested/workflows/" + id + "/journal");
  CHECK(state.events_path(id) == ws / ".provisioning/nested/workflows/" + id + "/events.jsonl");

  // Opening it again finds it as it is; a trailing slash is the same directory.
  CHECK(StateDir::open(ws / ".provisioning/nested/", ws.path()).path() == state.path());
  CHECK(StateDir::open(state.path(), ws.path()).list_workflows() == std::vector<std::string>{id});
}

TEST_CASE("state_dir: the runner lock lets one runner execute a workflow", "[state_dir]") {
  TempDir ws("prov-ws");
  const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
  const std::string a = state.create_workflow(), b = state.create_workflow();
  FileLock runner = state.lock_runner(a);
  CHECK(error_code([&] { state.lock_runner(a, 10ms); }) == "provisioning::state::locked");
  CHECK(state.lock_runner(b).held());  // another workflow is not locked
  CHECK(state.lock_workspace().held());
  runner.release();
  CHECK(state.lock_runner(a).held());
}

TEST_CASE("state_dir: lists workflows newest first and ignores anything else", "[state_dir]") {
  TempDir ws("prov-ws");
  const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
  CHECK(state.list_workflows().empty());
  const std::vector<std::string> made = {"wf-20261126-203000-000001", "wf-20251231-235959-ffffff",
                                         "wf-20261126-203001-000000", "wf-20261126-203000-00000a"};
  for (const std::string& id : made) ws.write(".provisioning/workflows/" + id + "/journal", "");
  ws.mkdir(".provisioning/workflows/wf-20261126-203002-000000");  // no journal yet: being submitted
  ws.mkdir(".provisioning/workflows/not-a-workflow");
  ws.write(".provisioning/workflows/wf-20301126-203000-000001", "a file, not a directory");
  fs::create_symlink(ws.path(), ws / ".provisioning/workflows/wf-20991126-203000-000001");
  CHECK(state.list_workflows() ==
        std::vector<std::string>{"wf-20261126-203001-000000", "wf-20261126-203000-00000a",
                                 "wf-20261126-203000-000001", "wf-20251231-235959-ffffff"});
  const std::string fresh = state.create_workflow();  // made now, after 2026-11-26 20:30:01
  CHECK(state.list_workflows().front() != fresh);     // a workflow from the moment its journal is
  Journal::create(state.journal_path(fresh), DatumRecord{{"workflow_id", fresh}});
  CHECK(state.list_workflows().front() == fresh);
}

TEST_CASE("state_dir: an unknown or malformed id is refused with the nearest ids", "[state_dir]") {
  TempDir ws("prov-ws");
  const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
  try {
    state.check_workflow_id("wf-20261126-203000-1a2b3c");
    FAIL("accepted an id with no workflow");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::unknown_id");
    CHECK(e.help() == "no workflow has run in this workspace yet");
  }
  ws.write(".provisioning/workflows/wf-20261126-203000-1a2b3c/journal", "");
  ws.write(".provisioning/workflows/wf-20250101-000000-999999/journal", "");
  CHECK_NOTHROW(state.check_workflow_id("wf-20261126-203000-1a2b3c"));
  try {
    state.check_workflow_id("wf-20261126-203000-1a2b3d");
    FAIL("accepted an unknown id");
  } catch (const WorkflowError& e) {
    CHECK(e.code() == "provisioning::workflow::unknown_id");
    CHECK(std::string(e.what()) ==
          "there is no workflow wf-20261126-203000-1a2b3d in " + state.path());
    CHECK(e.help() == "did you mean wf-20261126-203000-1a2b3c?");
  }
  for (const std::string bad : {"../../etc", "wf-20261126-203000-1a2b3c/..", "..", "", "a/b"}) {
    INFO(bad);
    try {
      state.check_workflow_id(bad);
      FAIL("accepted a malformed id");
    } catch (const WorkflowError& e) {
      CHECK(e.code() == "provisioning::workflow::unknown_id");
      CHECK(std::string(e.what()).find("is not a workflow id") != std::string::npos);
    }
  }
}

TEST_CASE("state_dir: a symlink leading out of the workspace is refused", "[state_dir]") {
  TempDir ws("prov-ws"), outside("prov-outside");
  SECTION("the state directory itself") {
    fs::create_symlink(outside.path(), ws / ".provisioning");
    CHECK(error_code([&] { StateDir::open(ws / ".provisioning", ws.path()); }) ==
          "provisioning::state::unsafe_path");
  }
  SECTION("a directory above it inside the workspace") {
    fs::create_symlink(outside.path(), ws / "var");
    CHECK(error_code([&] { StateDir::open(ws / "var/state", ws.path()); }) ==
          "provisioning::state::unsafe_path");
    CHECK(fs::is_empty(outside.path()));  // nothing was created out there
  }
  SECTION("a dangling symlink") {
    fs::create_symlink(ws / "nowhere", ws / ".provisioning");
    CHECK(error_code([&] { StateDir::open(ws / ".provisioning", ws.path()); }) ==
          "provisioning::state::unsafe_path");
  }
  SECTION("a file where the directory should be") {
    ws.write(".provisioning", "");
    CHECK(error_code([&] { StateDir::open(ws / ".provisioning", ws.path()); }) ==
          "provisioning::state::unsafe_path");
  }
  SECTION("a symlink within the workspace is fine") {
    ws.mkdir("real-state");
    fs::create_symlink(ws / "real-state", ws / ".provisioning");
    const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
    const std::string id = state.create_workflow();
    CHECK(fs::is_directory(ws / "real-state/workflows/" + id));
  }
  SECTION("a symlinked workflows directory is refused") {
    const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
    fs::create_symlink(outside.path(), ws / ".provisioning/workflows");
    CHECK(error_code([&] { state.create_workflow(); }) == "provisioning::state::unsafe_path");
    CHECK(error_code([&] { state.list_workflows(); }) == "provisioning::state::unsafe_path");
    CHECK(fs::is_empty(outside.path()));
  }
  SECTION("a relative path") {
    CHECK(error_code([&] { StateDir::open(".provisioning", ws.path()); }) ==
          "provisioning::state::unsafe_path");
  }
}

TEST_CASE("state_dir: storage_problem is silent while there is room, disk_full when below the floor", "[state_dir]") {
  TempDir dir("prov-state");
  StateDir state = StateDir::open(dir.path() + "/.provisioning", dir.path());
  CHECK_FALSE(state.storage_problem(0));
  auto full = state.storage_problem(UINT64_MAX);  // no file system has that much free
  REQUIRE(full);
  CHECK(full->code() == "provisioning::state::disk_full");
  CHECK(std::string(full->what()).find(state.path()) != std::string::npos);
}

TEST_CASE("state_dir: a link anywhere in a workflow's folder is unsafe_path, and nothing is used through it",
          "[state_dir]") {
  TempDir ws("prov-ws"), outside("prov-outside");
  const StateDir state = StateDir::open(ws / ".provisioning", ws.path());
  const std::string id = state.create_workflow();
  Journal::create(state.journal_path(id), DatumRecord{{"workflow_id", id}});
  outside.write("secret", "outside\n");
  const std::string wf = state.workflow_dir(id);
  ws.mkdir(".provisioning/workflows/" + id + "/running");
  CHECK_NOTHROW(state.check_workflow_files(id));
  CHECK(state.read_operation_log(id, "..").empty());
  ws.write(".provisioning/workflows/" + id + "/logs/" + operation_log_name(".."), "the output of ..\n");
  CHECK(state.read_operation_log(id, "..") == "the output of ..\n");
  CHECK(state.operation_log_path(id, "..") == wf + "/logs/%2E..log");
  CHECK(state.process_record_path(id, ".") == wf + "/running/%2E");

  SECTION("an operation's log") {
    fs::create_symlink(outside / "secret", wf + "/logs/" + operation_log_name("op"));
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
    CHECK(error_code([&] { state.read_operation_log(id, "op"); }) == "provisioning::state::unsafe_path");
    const SafeDir logs = state.open_workflow(id).sub("logs");
    CHECK(error_code([&] { logs.open_file(operation_log_name("op"), O_WRONLY | O_APPEND | O_CREAT); }) ==
          "provisioning::state::unsafe_path");
  }
  SECTION("logs/") {
    fs::remove_all(wf + "/logs");
    fs::create_symlink(outside.path(), wf + "/logs");
    fs::create_symlink(outside / "secret", outside / operation_log_name("op"));
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
    CHECK(error_code([&] { state.read_operation_log(id, "op"); }) == "provisioning::state::unsafe_path");
    CHECK(error_code([&] { state.open_workflow(id).sub("logs", true); }) == "provisioning::state::unsafe_path");
  }
  SECTION("running/ and a record in it") {
    fs::create_symlink(outside / "secret", wf + "/running/op");
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
    fs::remove(wf + "/running/op");
    fs::remove(wf + "/running");
    fs::create_symlink(outside.path(), wf + "/running");
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
    CHECK(error_code([&] { state.open_workflow(id).sub("running", true); }) == "provisioning::state::unsafe_path");
  }
  SECTION("undo/") {
    fs::create_symlink(outside.path(), wf + "/undo");
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
  }
  SECTION("the event log, the runner's log, a lock") {
    for (const char* name : {"events.jsonl", "runner.log", "runner.lock"}) {
      INFO(name);
      fs::remove(wf + "/" + name);
      fs::create_symlink(outside / "secret", wf + "/" + name);
      CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
      fs::remove(wf + "/" + name);
    }
    CHECK_NOTHROW(state.check_workflow_files(id));
  }
  SECTION("the workflow's folder itself") {
    fs::rename(wf, ws / "moved");
    fs::create_symlink(ws / "moved", wf);
    CHECK(error_code([&] { state.check_workflow_files(id); }) == "provisioning::state::unsafe_path");
  }
  CHECK(fs::directory_entry(outside / "secret").file_size() == 8);
  std::ifstream in(outside / "secret");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "outside\n");
}
