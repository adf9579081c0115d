// The OCF watchdog ends what the action started: a child of proc::run leads a process group of
// its own, so unless the watchdog kills those groups, everything the child started outlives the
// agent that Pacemaker already counts as finished.
#include <evos/ocf/runner.hpp>
#include <evos/proc/run.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace evos;
using namespace std::chrono_literals;

namespace {

// Alive and not a zombie (a killed orphan may wait a moment for its new parent to reap it).
bool alive(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' && line[close + 2] != 'X';
}

}  // namespace

TEST_CASE("the OCF watchdog kills the process groups of the children it started") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("evos-watchdog-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto pidfile = (dir / "grandchild.pid").string();

  const pid_t agent = ::fork();
  REQUIRE(agent >= 0);
  if (agent == 0) {
    // The agent: a start action with a 3 s operation timeout whose child hangs (a grandchild in
    // the child's group, as a tool that forks a helper would leave).
    ::setenv("OCF_RESKEY_CRM_meta_timeout", "3000", 1);
    ::setenv("OCF_RESOURCE_INSTANCE", "watchdog-test", 1);
    ocf::AgentInfo info{"watchdog-test", "1", "test", "test", {}, {{"start", 5, {}, {}, {}}}};
    char name[] = "watchdog-test";
    char action[] = "start";
    char* argv[] = {name, action, nullptr};
    const int rc = ocf::run(2, argv, info, [&](const ocf::Context&) -> ocf::Outcome {
      (void)proc::run({"sh", "-c", "sleep 600 & echo $! > \"$1\"; wait", "sh", pidfile}, Deadline::after(600s));
      return {};
    });
    ::_exit(rc == 0 ? 100 : 101);  // the watchdog must have ended the process before this
  }
  int status = 0;
  while (::waitpid(agent, &status, 0) < 0 && errno == EINTR) {
  }
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);  // OCF_ERR_GENERIC from the watchdog

  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  std::filesystem::remove_all(dir);
  REQUIRE(grandchild > 0);
  // SIGKILL was sent before the agent exited; the loop only waits for the kernel to finish the
  // kill. The bound is a safety net for a loaded machine, not a timing claim.
  for (int i = 0; i < 300 && alive(grandchild); ++i) std::this_thread::sleep_for(100ms);
  const bool survived = alive(grandchild);
  if (survived) ::kill(grandchild, SIGKILL);
  CHECK_FALSE(survived);
}
