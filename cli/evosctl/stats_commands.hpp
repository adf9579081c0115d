// evosctl stats [node|vm NAME|mirror NAME] [--since 1h] [--json] [--db PATH]: the history evosd
// samples (evos::stats, docs/metrics.md), current values and the window's points.
#pragma once

#include "vm_commands.hpp"

#include <CLI/CLI.hpp>

#include <functional>

namespace evosctl {

void add_stats_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run);

}  // namespace evosctl
