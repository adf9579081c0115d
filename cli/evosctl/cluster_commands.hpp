// evosctl cluster status|init|testip|fence-race, evosctl vm ha enable|disable, evosctl vm migrate: Pacemaker through
// its tools (XML status, crmsh for the templates), Corosync through its libraries.
#pragma once

#include "vm_commands.hpp"

namespace evosctl {

void add_cluster_commands(CLI::App& app, CLI::App& vm, GlobalOptions& global, std::function<int()>& run);


}  // namespace evosctl
