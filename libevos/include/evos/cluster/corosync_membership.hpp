// Membership and quorum read through Corosync's own libraries: libquorum (quorate, the current
// member list) and libcmap (the configured nodelist and the cluster name).
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>

namespace evos::cluster {

// Errc::backend with Corosync's error when it is not running on this node.
Result<Membership> read_membership(Deadline deadline);

}  // namespace evos::cluster
