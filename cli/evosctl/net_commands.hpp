// evosctl net create|list|delete (libvirt networks, defined identically on every node) and
// evosctl cluster check (every HA VM's networks, definition and disks on every node it may fail over to).
#pragma once

#include "vm_commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace evosctl {

// Adds `net ...` to `app` and `check` to its `cluster` subcommand (add_cluster_commands first).
void add_net_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
