// evosctl vm clone / vm template: copies of VMs and templates (libevos evos::clone).
#pragma once

#include "vm_commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace evosctl {

// Adds `vm clone SRC NEW` and `vm template SRC` under `vm`; each sets `run` when chosen.
void add_vm_clone_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
