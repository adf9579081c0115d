// The snapshot commands carried out (evosctl vm snapshot ...): the catalogue read and written in
// the VM's directory (evos::file::write_atomically) under a lock file beside it, qcow2 overlays
// made by `qemu-img create` (argv, deadline) for a shut-off VM or by libvirt for a running one,
// the VM's definition file kept on the current overlay after every change, and an HA-managed VM
// stopped and started only through Pacemaker (its target-role).
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/snapshot/catalogue.hpp>
#include <evos/snapshot/execute.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::snapshot {

struct Target {
  std::string storage;     // the storage directory (vm::layout)
  std::string vm;
  std::string hypervisor;  // the libvirt URI of the node a VM that is not HA-managed is on
  // For an HA-managed VM running on another node: how to reach that node's libvirt (the VM
  // agent's remote_hypervisor default; %n stands for the node's name).
  std::string remote_hypervisor = "qemu+tcp://%n/system";
};

struct CreateResult {
  bool already_exists = false;
  Place place;
  Consistency consistency = Consistency::offline;
  std::vector<std::string> overlays;  // the new current images
  std::vector<std::string> warnings;
};
Result<CreateResult> create_snapshot(const Target& t, const std::string& name, Deadline deadline);

struct Listing {
  Catalogue catalogue;  // empty (no snapshot yet) when there is no catalogue file
  std::string path;     // the catalogue file
};
Result<Listing> list_snapshots(const Target& t);

struct RevertResult {
  Place place;
  bool restarted = false;
  std::vector<std::string> overlays;
  std::vector<std::string> removed;
};
Result<RevertResult> revert_snapshot(const Target& t, const std::string& name, Deadline deadline);

struct DeleteResult {
  std::vector<std::string> removed;
  std::vector<std::string> kept;
  std::vector<std::string> forgotten_copies;  // booted copies whose disks are gone
};
Result<DeleteResult> delete_snapshot(const Target& t, const std::string& name, Deadline deadline);

struct BootResult {
  bool already_exists = false;
  std::string vm;
  std::string definition;
  std::string hypervisor;
  std::vector<std::string> disks;
};
// Boots snapshot `name` as the new VM `new_name` on `hypervisor` (defined there and started).
Result<BootResult> boot_snapshot(const Target& t, const std::string& name, const std::string& new_name,
                                 const std::string& hypervisor, Deadline deadline);

}  // namespace evos::snapshot
