// evos::ocf::run_front, the runner of the VM agent's front end (docs/vm-agent.md, "Two
// binaries"): a request the handler declines, and every request run() would answer without the
// handler, come back as nullopt with nothing printed (the full agent answers them); and
// OperationRecords::note_monitor, which the front end and the full agent both record through.
#include <evos/log.hpp>
#include <evos/ocf/runner.hpp>
#include <evos/vm/agent_info.hpp>
#include <evos/vm/operation_record.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace evos;

namespace {

using evos::test::TempDir;

struct Run {
  std::optional<int> rc;
  std::string printed;  // stdout and stderr together
  int handler_calls = 0;
};

// run_front with `action` and the environment set for the call, stdout and stderr captured.
Run front(const std::string& action, const ocf::FrontHandler& handler, bool with_config = true) {
  ::setenv("OCF_ROOT", "/usr/lib/ocf", 1);
  ::setenv("OCF_RESKEY_CRM_meta_interval", "10000", 1);
  if (with_config) ::setenv("OCF_RESKEY_config", "/nonexistent/vm.xml", 1);
  else ::unsetenv("OCF_RESKEY_config");
  TempDir d("evos-ocf-front");
  const std::string out = (d.path() / "out").string();
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved_out = ::dup(1), saved_err = ::dup(2);
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  ::close(fd);
  Run r;
  std::vector<std::string> args{"vm"};
  if (!action.empty()) args.push_back(action);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  r.rc = ocf::run_front(static_cast<int>(args.size()), argv.data(), vm::agent_info(), [&](const ocf::Context& ctx) {
    ++r.handler_calls;
    return handler(ctx);
  });
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.printed = ss.str();
  return r;
}

const ocf::FrontHandler answers = [](const ocf::Context&) -> std::optional<ocf::Outcome> { return ocf::Outcome{}; };
const ocf::FrontHandler declines = [](const ocf::Context&) -> std::optional<ocf::Outcome> { return std::nullopt; };

}  // namespace

TEST_CASE("run_front: the handler's own answer is the exit code") {
  auto r = front("monitor", answers);
  CHECK(r.rc == 0);
  CHECK(r.handler_calls == 1);
  r = front("monitor", [](const ocf::Context&) -> std::optional<ocf::Outcome> {
    return ocf::Outcome{ocf::Status::not_running, ""};
  });
  CHECK(r.rc == 7);
}

TEST_CASE("run_front: a declined request is handed on, with nothing printed") {
  auto r = front("monitor", declines);
  CHECK_FALSE(r.rc);
  CHECK(r.handler_calls == 1);
  CHECK(r.printed.empty());
}

TEST_CASE("run_front: what run() answers without the handler is handed on, with nothing printed") {
  for (const char* action : {"meta-data", "usage", "help", "", "frobnicate"}) {
    CAPTURE(action);
    auto r = front(action, answers);
    CHECK_FALSE(r.rc);
    CHECK(r.handler_calls == 0);
    CHECK(r.printed.empty());
  }
  // a required parameter missing: run() would answer 6 with an exit reason
  auto r = front("monitor", answers, false);
  CHECK_FALSE(r.rc);
  CHECK(r.handler_calls == 0);
  CHECK(r.printed.empty());
  // a handler that throws: run() would answer 1
  r = front("monitor", [](const ocf::Context&) -> std::optional<ocf::Outcome> { throw std::runtime_error("boom"); });
  CHECK_FALSE(r.rc);
  CHECK(r.printed.empty());
}

TEST_CASE("note_monitor: what a monitor records against the record there is") {
  TempDir d("evos-ocf-front");
  const vm::OperationRecords records((d.path() / "evos-vm-ops").string());
  StderrLog log("test", "", false);
  // no record: a monitor that finds it running makes it active (a probe found it)
  records.note_monitor("web1", "web1", "u1", true, log);
  REQUIRE(records.load("web1"));
  REQUIRE(*records.load("web1"));
  CHECK((*records.load("web1"))->phase == vm::Phase::active);
  // stopping (a stop in progress or one that died): a monitor leaves it
  records.note("web1", "web1", "u1", vm::Phase::stopping, log);
  records.note_monitor("web1", "web1", "u1", false, log);
  CHECK((*records.load("web1"))->phase == vm::Phase::stopping);
  // a record of another domain counts as none
  records.note("web1", "old", "u0", vm::Phase::active, log);
  records.note_monitor("web1", "web1", "u1", false, log);
  CHECK((*records.load("web1"))->phase == vm::Phase::stopped);
  CHECK((*records.load("web1"))->domain == "web1");
  // no instance (a manual run): nothing
  records.note_monitor("", "web2", "", true, log);
  CHECK(fs::is_empty(d.path() / "evos-vm-ops") == false);
  CHECK_FALSE(fs::exists(d.path() / "evos-vm-ops" / "web2"));
}
