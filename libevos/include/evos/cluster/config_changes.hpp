// Configuration changes evosctl makes on the live cluster (or a CIB file, CIB_file), built from
// the pure plans of cib_plan.hpp and Pacemaker's tools (pacemaker_tools.hpp, attributes.hpp).
#pragma once

#include <evos/cluster/cib_plan.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <string>

namespace evos::cluster {

// Loads fencing-race.crm's rendered text, after saving what it replaces (FencingBefore) in the
// CIB unless an earlier enable saved it already.
Result<void> enable_fence_race(const std::string& rendered_crm, Deadline deadline);

// The topology and priority-fencing-delay back as enable found them, then the device and the
// saved state in one change (in that order: a level may not name a device that no longer exists).
Result<FenceRaceRemoval> disable_fence_race(Deadline deadline);

// The ping clone and every rule on its attribute, in one CIB change. The rules go with the
// clone: left alone, "not_defined evos-testip" would ban every VM once the clone stops.
Result<CibRemoval> disable_testip(Deadline deadline);

// Everything of the resource in the configuration (plan_vm_removal), in one CIB change. A
// running resource is refused (Errc::invalid_argument, naming where it runs) unless `stop`:
// then Pacemaker stops it (target-role=Stopped, as `crm resource stop`) and it is removed once
// stopped (Errc::timeout, still configured, if it has not stopped by the deadline). Deleting a
// running resource would leave it running with nothing managing it.
Result<CibRemoval> remove_resource(const std::string& resource_id, bool stop, Deadline deadline);

}  // namespace evos::cluster
