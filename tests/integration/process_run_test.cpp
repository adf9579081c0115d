// evos::proc::run against real processes: argv only, deadlines, output capture, process groups.
#include <evos/proc/run.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <stdlib.h>

#include "temp_dir.hpp"

using namespace evos;
using namespace std::chrono_literals;

TEST_CASE("run captures output and the exit code") {
  auto r = proc::run({"sh", "-c", "echo out; echo err >&2; exit 3"}, Deadline::after(5s));
  REQUIRE(r);
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
}

TEST_CASE("arguments are passed verbatim and never reach a shell") {
  const std::string hostile = "$(touch /tmp/evos-proc-canary); `id` 'q' \"d\" \n";
  auto r = proc::run({"printf", "%s", hostile}, Deadline::after(5s));
  REQUIRE(r);
  CHECK(r->out == hostile);
  CHECK_FALSE(std::filesystem::exists("/tmp/evos-proc-canary"));
}

TEST_CASE("stdin is fed and the environment is adjusted") {
  auto r = proc::run({"sh", "-c", "cat; echo \"[$EVOS_X][${HOME-unset}]\""}, Deadline::after(5s),
                     {.stdin_data = "input\n", .env = {{"EVOS_X", "1"}}, .unset_env = {"HOME"}});
  REQUIRE(r);
  CHECK(r->out == "input\n[1][unset]\n");
}

TEST_CASE("the deadline kills the child and everything in its process group") {
  const auto t0 = Clock::now();
  auto r = proc::run({"sh", "-c", "sleep 30 & sleep 30; echo never"}, Deadline::after(300ms));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::timeout);
  CHECK(Clock::now() - t0 < 2s);
}

TEST_CASE("a missing program is not_installed") {
  auto r = proc::run({"evos-no-such-program"}, Deadline::after(5s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::not_installed);
}

TEST_CASE("runaway output is cut off") {
  auto r = proc::run({"sh", "-c", "yes"}, Deadline::after(10s), {.max_output = 1 << 16});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("more than") != std::string::npos);
}

TEST_CASE("describe quotes for reading") {
  CHECK(proc::describe({"drbdadm", "up", "r0"}) == "drbdadm up r0");
  CHECK(proc::describe({"echo", "a b", "it's"}) == "echo 'a b' 'it'\\''s'");
}

namespace {
// A scratch directory holding an executable `evos-cwd-probe`, made the current directory for
// the test's lifetime (and restored after).
struct ProbeInCwd {
  evos::test::TempDir tmp{"evos-path"};  // declared first: removed after the cwd is restored
  std::filesystem::path dir = tmp.path(), old_cwd = std::filesystem::current_path();
  ProbeInCwd() {
    const auto probe = dir / "evos-cwd-probe";
    { std::ofstream(probe) << "#!/bin/sh\necho ran\n"; }
    std::filesystem::permissions(probe, std::filesystem::perms::owner_all);
    std::filesystem::current_path(dir);
  }
  ~ProbeInCwd() { std::filesystem::current_path(old_cwd); }
};
}  // namespace

TEST_CASE("an empty PATH entry never means the current directory") {
  ProbeInCwd cwd;
  // Control: the probe runs when its directory is named.
  auto named = proc::run({"evos-cwd-probe"}, Deadline::after(5s), {.search_path = cwd.dir.string()});
  REQUIRE(named);
  CHECK(named->out == "ran\n");
  // execvp(3) would find it through each of these (an empty entry is "."); proc::run must not.
  for (const std::string path : {":/evos-no-such-dir", "/evos-no-such-dir:", "/evos-no-such-dir::/evos-none-either", ":"}) {
    INFO("PATH=" << path);
    auto r = proc::run({"evos-cwd-probe"}, Deadline::after(5s), {.search_path = path});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::not_installed);
  }
}
