// ocf:evos:vm as Pacemaker runs it: a front end linked without libvirt that answers a recurring
// shallow monitor when evosd vouches that the domain runs (evos::vm::monitor_from_evosd), and
// hands every other request, and every monitor it is not sure of, to the full agent (main.cpp)
// with the same argv and environment (docs/vm-agent.md, "Two binaries"). A vouched monitor then
// costs no libvirt client library loading (docs/measurements.md, bench/evosd).
#include <evos/ocf/exit_status.hpp>
#include <evos/ocf/runner.hpp>
#include <evos/proc/exec.hpp>
#include <evos/vm/agent_info.hpp>
#include <evos/vm/monitor_front.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "monitor") {
    if (auto rc = evos::ocf::run_front(argc, argv, evos::vm::agent_info(), evos::vm::monitor_from_evosd)) return *rc;
  }
  // The full agent sits below the front end's own directory (Pacemaker's provider directory, or
  // the build tree's agents/): found from the kernel's name for this executable, never from the
  // environment or PATH (this runs as root).
  auto dir = evos::proc::own_directory();
  const auto failure = dir ? evos::proc::replace_with(*dir + "/" + evos::vm::full_agent_subpath, argv) : dir.error();
  // OCF 1.1: 5 (OCF_ERR_INSTALLED), the agent is not installed completely on this node.
  fmt::print(stderr, "ocf-exit-reason:the VM agent is incomplete: {}\n", failure.message());
  return static_cast<int>(evos::ocf::Status::err_installed);
}
