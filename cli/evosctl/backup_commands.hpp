// evosctl backup ...: deduplicated, verified backups in a store (docs/backup.md), each command a
// thin call into evos::backup.
#pragma once

#include "vm_commands.hpp"

namespace evosctl {

void add_backup_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
