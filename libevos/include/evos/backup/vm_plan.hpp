// evos::backup VM planning, pure: which disks of a domain a backup reads and how, whether the
// next backup may read only what QEMU's dirty bitmap marks, the libvirt backup and checkpoint
// XML (formatbackup.rst, formatcheckpoint.rst), and the definition of a VM restored under a new
// name.
#pragma once

#include <evos/backup/manifest.hpp>
#include <evos/error.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::backup {

// One disk of a domain (<disk device='disk'>; cdroms and floppies are not backed up).
struct VmDisk {
  std::string target;  // <target dev>: "vda"
  std::string source;  // <source file> or <source dev>
  std::string format;  // <driver type>: "qcow2", "raw"
  bool block = false;  // type='block' (a DRBD device, an LV)
  // A persistent dirty bitmap needs qcow2 at the active layer (libvirt 9.0 has no qcow2
  // data-file for raw devices: that came in 10.10). Other disks are read whole every time.
  [[nodiscard]] bool bitmap_capable() const { return format == "qcow2"; }
};

// The disks of a domain XML, in document order. A disk without a source or target (an empty
// cdrom slot is skipped anyway), a network disk (type='network') or a duplicate target is an
// Errc::unimplemented or invalid_config error naming it.
Result<std::vector<VmDisk>> backup_disks(std::string_view domain_xml);

// The checkpoint a backup creates is named after it: "evos-20261206T221005.123Z".
std::string checkpoint_name(std::string_view backup_time);

// Whether this backup may read only the blocks QEMU marked since the base backup's checkpoint.
struct IncrementalInput {
  const Manifest* base = nullptr;            // the VM's newest backup in this store
  std::optional<std::string> run_token;      // the token in the running domain's live XML, if any
  std::vector<VmDisk> disks;                 // the domain's disks now
  std::map<std::string, std::uint64_t> sizes;  // their sizes now, by target
};
struct IncrementalPlan {
  bool incremental = false;
  std::string reason;  // why (for the output and the manifest's reader): "VM restarted since ...", ...
};
// Incremental only if the base exists and was taken by snapshot mode with a checkpoint, the domain
// has run without a stop since (its live-XML run token equals the base's: live XML travels with a
// live migration and is gone after any stop, crash or failover, when a persistent bitmap may have
// missed writes or be left inconsistent), and the disks are the same targets and sizes.
IncrementalPlan plan_incremental(const IncrementalInput& in);

// <domaincheckpoint>: a bitmap per qcow2 disk, checkpoint='no' for the rest.
std::string checkpoint_xml(std::string_view name, const std::vector<VmDisk>& disks);
// <domainbackup mode='pull'>: an NBD server on `socket`, a scratch file per disk in `scratch_dir`
// (QEMU's copy-before-write target while the backup runs), <incremental> when given.
std::string pull_backup_xml(const std::vector<VmDisk>& disks, std::string_view socket, std::string_view scratch_dir,
                            const std::optional<std::string>& incremental_from);

// A checkpoint's XML (virDomainCheckpointGetXMLDesc) made fit to redefine on another host: its
// <parent> is dropped, because evos keeps one checkpoint per VM and deletes the older ones after a
// backup (a redefine naming a parent the host does not know is refused). Errc::invalid_config
// for XML that is not a <domaincheckpoint>.
Result<std::string> checkpoint_for_redefine(std::string_view checkpoint_xml);

// The live-XML metadata element that marks one uninterrupted run of a domain.
inline constexpr char run_token_namespace[] = "urn:evos:backup:1";
inline constexpr char run_token_prefix[] = "evosb";
std::string run_token_xml(std::string_view token);
std::optional<std::string> parse_run_token(std::string_view metadata_xml);

// The definition of a VM restored from `domain_xml` as `new_name`: no <uuid> (libvirt makes a
// new one), no MAC addresses (new ones), no <metadata>, each backed-up disk's source replaced by
// its restored raw file (`disk_files`, by target), every other disk left out, and every serial,
// console, parallel or channel device that writes to a file (type='file') moved to
// FILE_DIR/NEW_NAME.DEVICE-N.log, so the copy never writes into the original's logs.
Result<std::string> domain_for_restore(std::string_view domain_xml, std::string_view new_name,
                                       const std::map<std::string, std::string>& disk_files, std::string_view file_dir);

}  // namespace evos::backup
