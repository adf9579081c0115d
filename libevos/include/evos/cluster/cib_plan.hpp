// Plans for taking out what evosctl put into the CIB, computed from the configuration section
// as `cibadmin --query --scope configuration` prints it (pure: the XML in, a plan out).
//  - a VM: its primitive (vm-shared.crm / vm-drbd.crm) and every constraint naming it: the
//    test-IP rules (testip.crm "per VM"), vm-drbd's colocation and order, `crm_resource --move`
//    leftovers (cli-prefer-*, cli-ban-*) and any a person added;
//  - the test IPs: the ping clone (testip.crm "the clone") and every location rule on its
//    attribute (the "per VM" and "per mirror" blocks), plus constraints naming the clone;
//  - the fence race: fence-race, the fencing topology and priority-fencing-delay as they were
//    before `cluster fence-race enable` (saved by it in the CIB, see FencingBefore).
// A removal is one CIB change: `cibadmin --delete --force --delete-all --xpath XPATH`, where
// XPATH names each top-level element by id, so nothing else can match.
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::cluster {

// A primitive as the configuration has it: its agent ("ocf:evos:vm") and its meta attribute
// target-role ("" when it has none, i.e. Pacemaker's default Started).
struct PrimitiveInConfig {
  std::string agent;
  std::string target_role;
};
// nullopt when the configuration has no primitive with that id.
Result<std::optional<PrimitiveInConfig>> find_primitive(std::string_view configuration_xml, std::string_view resource_id);

struct CibRemoval {
  std::vector<std::string> ids;  // the elements removed, for messages (configuration order)
  std::string xpath;             // all of them, one union
};

// Errc::not_found when neither the primitive nor a constraint naming it exists; Errc::invalid_config
// when the VM sits in a group or clone, or in a resource set of a constraint (a person's
// configuration evosctl did not make: removing it would change other resources).
Result<CibRemoval> plan_vm_removal(std::string_view configuration_xml, std::string_view resource_id);

// The ping clone "testip-clone" (testip.crm) and every rsc_location whose rules read its
// attribute (the primitive's `name` parameter, default evos-testip) or evosd's (that name + "-evosd",
// testip.crm's testip-evosd rules). Errc::not_found without them.
Result<CibRemoval> plan_testip_removal(std::string_view configuration_xml);

// One fencing level with a node target (the only kind fence-race enable writes).
struct FencingLevel {
  std::string id;  // kept, so a restored level is the one that was there
  std::string target;
  int index = 1;
  std::vector<std::string> devices;
  bool operator==(const FencingLevel&) const = default;
};

// What `cluster fence-race enable` replaced, kept in the CIB in the cluster property set
// "evos-fence-race-before" (names Pacemaker does not know are ignored by it, so the set changes
// nothing), so that disable can restore it on whichever node it runs:
//   evos-fencing-topology:      levels "ID/TARGET/INDEX/DEV,DEV" separated by spaces, or "none"
//   evos-priority-fencing-delay: the value in cib-bootstrap-options; absent when it was unset
struct FencingBefore {
  std::vector<FencingLevel> topology;
  std::optional<std::string> priority_fencing_delay;
  bool operator==(const FencingBefore&) const = default;
};
inline constexpr std::string_view fencing_before_set = "evos-fence-race-before";

// The fencing settings now. Errc::invalid_config for a level evosctl cannot save and restore
// (target-pattern, target-attribute, names outside evos::text token syntax).
Result<FencingBefore> read_fencing(std::string_view configuration_xml);
// The saved state, or nullopt when there is none (never enabled, or enabled by hand).
Result<std::optional<FencingBefore>> read_fencing_before(std::string_view configuration_xml);
// The crmsh line that saves `before` ("property evos-fence-race-before: ...").
std::string fencing_before_crm(const FencingBefore& before);

struct FenceRaceRemoval {
  CibRemoval removal;                    // fence-race, constraints naming it, the saved set
  std::string topology_xml;              // the <fencing-topology> to put back; "": none (removal takes it)
  std::optional<std::string> priority_fencing_delay;  // to set; nullopt: delete it (if restore)
  bool restore_delay = false;            // false: no saved state, priority-fencing-delay untouched
};
// With saved state: its topology and delay. Without (a device configured by hand): the current
// topology with fence-race taken out of each level (a level left empty goes), the delay left
// alone. Errc::not_found without fence-race and without saved state.
Result<FenceRaceRemoval> plan_fence_race_removal(std::string_view configuration_xml);

}  // namespace evos::cluster
