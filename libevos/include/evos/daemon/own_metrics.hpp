// evosd's own counters as metric families (docs/metrics.md, "evosd"): what it has seen and done,
// for the exporter beside the node's facts. Pure: a copy of the counters in, families out.
#pragma once

#include <evos/daemon/node_state.hpp>
#include <evos/metrics/exposition.hpp>

#include <optional>
#include <vector>

namespace evos::daemon {

// `drbd_synced`: nullopt when evosd does not follow DRBD (then no evos_daemon_drbd_events2_synced);
// `corosync_synced`: nullopt when it does not follow Corosync (then no evos_daemon_corosync_connected).
std::vector<metrics::Family> own_families(const Counters& c, bool libvirt_connected,
                                          std::optional<bool> drbd_synced = std::nullopt,
                                          std::optional<bool> corosync_synced = std::nullopt);

}  // namespace evos::daemon
