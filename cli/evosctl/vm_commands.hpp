// evosctl vm ...: VM commands, each a thin call into libevos.
#pragma once

#include <CLI/CLI.hpp>

namespace evosctl {

struct GlobalOptions {
  std::string hypervisor;
  bool json = false;
};

// Adds `vm list` and `vm status NAME`; each sets `run` to its action when chosen. Returns `vm`.
CLI::App& add_vm_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
