// Where an evos VM's files live on its storage: one directory per VM holding the definition both
// nodes start it from, its disks, its serial log and its snapshots. Keeping them together on the
// shared storage is what lets the peer start, snapshot, revert or clone the VM (Proxmox keeps the
// same facts in /etc/pve, replicated by pmxcfs; evos keeps them on the storage both nodes see).
#pragma once

#include <evos/error.hpp>

#include <string>
#include <string_view>

namespace evos::vm {

// The storage directory evosctl uses when none is given: the mount point of the shared storage
// (NFS, GFS2/OCFS2, or a file system on a DRBD mirror), as Proxmox uses /mnt/pve/<storage>.
inline constexpr char default_storage_dir[] = "/var/lib/evos/vms";

struct VmLayout {
  std::string storage;  // absolute, without a trailing '/'
  std::string name;

  std::string dir() const { return storage + "/" + name; }
  // The libvirt domain XML both nodes start the VM from (the HA resource's `config`).
  std::string definition() const { return dir() + "/" + name + ".xml"; }
  // A disk image for the disk with target `target` (vda, sdb) in format `format` (qcow2, raw).
  std::string disk(std::string_view target, std::string_view format) const {
    return dir() + "/" + name + "-" + std::string(target) + "." + (format == "raw" ? "img" : std::string(format));
  }
  std::string serial_log() const { return dir() + "/" + name + ".serial.log"; }
  std::string snapshots_dir() const { return dir() + "/snapshots"; }
};

// The layout of VM `name` on `storage`; invalid_argument for a bad name (vm::name_problem) or a
// storage path that is not absolute or holds "..", '\n' or a NUL.
Result<VmLayout> layout(std::string_view storage, std::string_view name);

}  // namespace evos::vm
