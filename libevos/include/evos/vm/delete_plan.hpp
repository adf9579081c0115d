// Whether `evosctl vm delete` may go ahead, decided over facts gathered beforehand (pure): a
// delete never removes a VM that runs (on this node, or anywhere when the cluster manages it)
// nor a disk another VM's disk reads as its backing file, and never without --yes.
#pragma once

#include <evos/error.hpp>
#include <evos/vm/backing_chain.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::vm {

struct DeleteFacts {
  std::string name;
  bool yes = false;
  bool keep_disks = false;
  std::string state_here;          // libvirt's state on this node ("shut off", "absent"...)
  bool active_here = false;        // libvirt runs it (or has it paused, crashed...) on this node
  std::optional<std::string> ha_resource;  // the ocf:evos:vm primitive managing it
  bool ha_active = false;
  std::vector<std::string> ha_nodes;
  std::vector<BackingUse> backing_users;  // other VMs' images reading through ours
};

struct DeletePlan {
  bool remove_ha = false;     // first: the cluster resource (as `vm ha disable`)
  bool undefine = false;      // then: libvirt's definition on this node
  bool remove_disks = true;   // then: the files (the disks unless keep_disks)
};

// Errc::invalid_argument naming what refuses the delete: no --yes; running here or in the
// cluster (stop it first: `evosctl vm stop`); a disk another VM reads through (which images).
// With keep_disks the backing check does not apply: the disks stay.
Result<DeletePlan> plan_delete(const DeleteFacts& f, bool defined_here);

}  // namespace evos::vm
