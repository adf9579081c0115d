// evos::backup::back_up_vm and restore_vm: a whole VM into a store and back, through the
// hypervisor port (VmHost) and NBD.
//
// Live (mode snapshot, suspend): a libvirt pull-mode backup (virDomainBackupBegin) fixes the
// point in time; guest file systems are frozen through the QEMU guest agent for the instant of
// the begin when one answers (crash-consistent otherwise; the manifest and the output say which);
// suspend pauses the VM around that instant instead of only freezing. The disks are then read over
// NBD while the VM runs on. Each backup makes a checkpoint (a persistent dirty bitmap per qcow2
// disk); the next one reads only what the bitmap marks if vm_plan's plan_incremental allows it,
// otherwise every block. libvirt keeps checkpoint metadata per host, so a checkpoint unknown here
// (after a live migration) is redefined from the manifest; after a success the older evos
// checkpoints are deleted, so a VM carries one bitmap per disk.
//
// A VM that is shut off is read through qemu-nbd (its images, read-only), every block. Mode stop
// shuts a running VM down first (stop_control.hpp: through Pacemaker for an HA VM), reads it so,
// and starts it again, also when the backup failed.
#pragma once

#include <evos/backup/operations.hpp>
#include <evos/backup/stop_control.hpp>
#include <evos/backup/vm_host.hpp>

#include <map>

namespace evos::backup {

struct VmBackupRequest {
  std::string vm;
  Mode mode = Mode::snapshot;  // snapshot, suspend or stop
  // Where the private directory for the NBD socket and QEMU's scratch files is made (it takes this
  // directory's owner, so an unprivileged QEMU can use it, and mode 0700).
  std::string scratch_dir = "/var/lib/libvirt/qemu";
  bool only_if_running = false;  // a VM not running (or not defined) on this host is skipped (scheduled backups of HA VMs)
  // Mode stop: how a running VM is stopped and started again (required then), and how long its
  // shutdown may take (vzdump's "stopwait" is 10 minutes too).
  VmStopControl* stop_control = nullptr;
  Millis stop_timeout = std::chrono::minutes(10);
  Millis start_timeout = std::chrono::minutes(2);
};

struct VmBackupResult {
  std::optional<Manifest> manifest;  // nullopt: skipped
  std::string skipped;               // why, when skipped
  std::vector<std::string> warnings;
};

Result<VmBackupResult> back_up_vm(const Store& store, VmHost& host, const VmBackupRequest& request, const RunOptions& options);

// Restores every disk of a VM backup as raw files DIR/NEW-TARGET.img and defines the VM as NEW
// (new UUID and MACs), optionally starting it. Refuses a NEW that libvirt already has, and files
// that exist.
struct VmRestoreRequest {
  BackupId backup;
  std::string new_name;
  std::string disk_dir;
  bool start = false;
};
struct VmRestoreResult {
  std::map<std::string, std::string> disk_files;  // target -> file
  std::string domain_xml;
};
Result<VmRestoreResult> restore_vm(const Store& store, VmHost& host, const VmRestoreRequest& request, const RunOptions& options);

}  // namespace evos::backup
