// A VM under Pacemaker's control: an ocf:evos:vm primitive whose `config` is the VM's
// definition (crm-templates/vm-shared.crm). Such a VM is started and stopped only through the
// cluster (its target-role), never behind Pacemaker's back: a VM libvirt started by hand on one
// node is one Pacemaker may start on the other, and two QEMUs on one disk destroy it.
// The pure half: finding the resource in the configuration, the template rendered stopped.
#pragma once

#include <evos/cluster/admin.hpp>
#include <evos/cluster/status.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::cluster {

// One ocf:evos:vm primitive of a CIB configuration section (`cibadmin --query --scope
// configuration`, or the whole CIB), anywhere under <resources> (alone, in a group or a clone).
struct VmResource {
  std::string id;                          // "vm-web1"
  std::string config;                      // its `config` parameter ("" when it has none)
  std::optional<std::string> target_role;  // its meta target-role, when set
  // An INFINITY colocation puts it with the promoted role of another resource (`colocation X
  // inf: vm-web1 mirror-web1-clone:Promoted`; "Master" is the pre-2.1 name of the role): the VM
  // runs only where its DRBD mirror is primary (crm-templates/vm-drbd.crm).
  bool promoted_mirror = false;
  bool operator==(const VmResource&) const = default;
};

// Every ocf:evos:vm primitive, in document order: the one reader of the configuration for
// evosctl's VM, snapshot and cluster-check commands. Errc::invalid_config for a document that
// is not XML or not a CIB configuration.
Result<std::vector<VmResource>> vm_resources(std::string_view configuration_xml);

// The id of the ocf:evos:vm primitive whose `config` parameter is `definition`, or nullopt.
// Errc::invalid_config for a document that is not a CIB configuration.
Result<std::optional<std::string>> find_vm_resource(std::string_view configuration_xml, std::string_view definition);

// Whether any element of the configuration has id `id` (a new resource must not take the id of
// one that exists: `crm configure load update` would silently replace it).
Result<bool> has_id(std::string_view configuration_xml, std::string_view id);

// Rendered vm-shared.crm with meta target-role=Stopped, so the resource is created without
// being started (`vm create --ha` without --start). invalid_config when the text has no single
// primitive with a meta part (a template evosctl does not know).
Result<std::string> vm_shared_stopped(std::string_view rendered_crm);

// Whether the cluster reports the resource as asked: started = role Started, active on exactly
// one node; stopped = role Stopped, not active anywhere (a resource that is not configured
// counts as stopped). Starting and Stopping (an action in flight) are neither.
bool vm_resource_reached(const ResourceStatus* r, bool started);

}  // namespace evos::cluster
