// evosctl mirror list|status|resync|resolve and evosctl node standby|shutdown-check: DRBD through
// evos::drbd (drbdsetup status --json, events2), the decisions of evos::mirror, Pacemaker through
// its tools.
#pragma once

#include "vm_commands.hpp"

namespace evosctl {

void add_mirror_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
