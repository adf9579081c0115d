// evosd's own counters as metric families (docs/metrics.md, "evosd"): what it has seen and done,
// for the exporter beside the node's facts. Pure: a copy of the counters in, families out.
#pragma once

#include <evos/daemon/node_state.hpp>
#include <evos/metrics/exposition.hpp>

#include <vector>

namespace evos::daemon {

std::vector<metrics::Family> own_families(const Counters& c, bool libvirt_connected);

}  // namespace evos::daemon
