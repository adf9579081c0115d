// evosctl vm snapshot ...: cluster-aware snapshots (docs/vm-ops.md, "Snapshots").
#pragma once

#include "vm_commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace evosctl {

// Adds `vm snapshot create|list|revert|delete|boot` under `vm`.
void add_vm_snapshot_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
