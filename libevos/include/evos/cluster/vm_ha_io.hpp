// The cluster side of a VM's life (`evosctl vm create --ha|start|stop|delete`, `vm ha enable`):
// Pacemaker's tools run by argv with deadlines (pacemaker_tools.hpp).
#pragma once

#include <evos/cluster/admin.hpp>
#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>

namespace evos::cluster {

// What the cluster on this node says about a VM.
struct VmHaView {
  bool cluster = false;              // Pacemaker installed and its CIB reachable from this node
  bool installed = true;             // Pacemaker's tools are installed here (cibadmin found)
  std::string why_no_cluster;        // when !cluster: cibadmin's words
  std::optional<std::string> resource;  // the VM's ocf:evos:vm primitive (find_vm_resource)
  bool active = false;
  std::vector<std::string> nodes;    // where it runs
  bool id_taken = false;             // some element has the id vm_resource_id(name) (view_vm_ha's `name`)
};

// The VM whose definition is `definition`. No Pacemaker installed, or a CIB that cannot be
// reached (cibadmin exit 102, CRM_EX_NOT_CONNECTED: the cluster stack is not running here) is a
// view with cluster=false, not an error; the caller decides whether that may be acted on.
// `name`, when given, is the VM's name, for id_taken.
Result<VmHaView> view_vm_ha(const std::string& definition, Deadline deadline, const std::string& name = {});

// vm-shared.crm (its text `template_text`) rendered for `settings` and loaded; with `start`
// false the resource is created with target-role=Stopped. Returns the resource id.
// The one implementation behind `vm ha enable` and `vm create --ha`.
Result<std::string> enable_vm_ha(const std::string& template_text, const VmHaSettings& settings, bool start, Deadline deadline);

// Sets the resource's target-role (Started|Stopped, `crm_resource --meta`) and waits until the
// cluster reports it so (vm_resource_reached); Errc::timeout naming the state at the deadline.
Result<PacemakerStatus> set_vm_target_role(const std::string& resource, bool started, Deadline deadline);

}  // namespace evos::cluster
