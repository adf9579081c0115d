// evosctl vm create|start|stop|restart|delete|console (docs/evosctl.md, docs/vm-ops.md).
#pragma once

#include "vm_commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace evosctl {

void add_vm_create_commands(CLI::App& vm, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
