// evosctl vm ...: VM commands, each a thin call into libevos.
#pragma once

#include <evos/deadline.hpp>

#include <CLI/CLI.hpp>

namespace evosctl {

struct GlobalOptions {
  std::string hypervisor;
  bool json = false;
  std::string timeout;  // the global --timeout as given; "" = not given (docs/evosctl.md, "Deadlines")
  // When the command's own steps must be done; set in main() once the command is known. The
  // watchdog that ends the process fires a guard time later (evos::guard_time).
  evos::Deadline deadline = evos::Deadline::after(evos::Millis(30000));
};

// Adds `vm list` and `vm status NAME`; each sets `run` to its action when chosen. Returns `vm`.
CLI::App& add_vm_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
