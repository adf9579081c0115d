// How a snapshot plan is carried out, step by step, over a port (Actions) that operations.cpp
// implements with libvirt, qemu-img, Pacemaker and files, and the unit tests with a fake: the
// order of the steps (never let a VM write into a snapshot's image, even when interrupted), the
// freeze that is always thawed, and an HA VM stopped and started only through Pacemaker.
#pragma once

#include <evos/error.hpp>
#include <evos/snapshot/plan.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evos::snapshot {

// Where the VM is, as the command found it.
struct Place {
  std::optional<std::string> ha_resource;  // the Pacemaker resource, if HA-managed
  std::optional<std::string> target_role;  // its target-role meta attribute (nullopt: unset)
  bool running = false;                    // running or paused
  bool paused = false;                     // paused: no guest agent can answer a freeze
  std::string node;                        // where it runs ("" when shut off)
  std::string hypervisor;                  // the libvirt URI used for it
  std::vector<std::string> notes;          // what the user should know (e.g. no cluster on this node)
};

class Actions {
 public:
  virtual ~Actions() = default;
  // The guest agent's fsfreeze; false when no agent answers.
  virtual Result<bool> freeze() = 0;
  virtual Result<void> thaw() = 0;
  virtual Result<void> live_snapshot(const std::string& snapshot_xml) = 0;
  // All or none (made ones are removed again when one fails).
  virtual Result<void> make_overlays(const std::vector<NewOverlay>& overlays) = 0;
  virtual void remove_files(const std::vector<std::string>& files) = 0;
  // Fails while a QEMU writes one of these images (target -> file).
  virtual Result<void> check_not_in_use(const std::map<std::string, std::string>& disks) = 0;
  virtual Result<void> write_definition(const std::string& xml) = 0;
  // Redefines the domain where it is defined (nothing if it is not); not for HA VMs, whose agent
  // redefines them from the definition file at every start.
  virtual Result<void> redefine(const std::string& xml) = 0;
  virtual Result<void> save_catalogue(const Catalogue& c) = 0;
  // A VM that is not HA-managed: a hard stop, and a start.
  virtual Result<void> stop_vm() = 0;
  virtual Result<void> start_vm() = 0;
  // Sets the resource's target-role (nullopt deletes it) and, with `wait`, waits until Pacemaker
  // reports the resource started (`active`) or stopped.
  virtual Result<void> set_ha_role(const std::string& resource, const std::optional<std::string>& role, bool active, bool wait) = 0;
};

struct CreateOutcome {
  Consistency consistency = Consistency::offline;
  std::vector<std::string> warnings;
};

// Takes the snapshot of `plan` (not already_exists); `plan.after`'s last snapshot gets the
// consistency reached before the catalogue is saved.
Result<CreateOutcome> execute_create(CreatePlan& plan, const Place& place, Actions& a);

// Reverts; true when the VM was running and was started again.
Result<bool> execute_revert(const RevertPlan& plan, const Catalogue& before, const Place& place, Actions& a);

}  // namespace evos::snapshot
