// The plans of the snapshot commands, pure: which overlay files to make on which images, what the
// catalogue and the definition become, which files may be removed. The I/O half
// (evos/snapshot/operations.hpp) carries a plan out.
#pragma once

#include <evos/error.hpp>
#include <evos/snapshot/catalogue.hpp>
#include <evos/vm/layout.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace evos::snapshot {

// A new, empty qcow2 overlay (`qemu-img create -f qcow2 -b BACKING -F BACKING_FORMAT FILE`, or
// the file libvirt makes for a live snapshot).
struct NewOverlay {
  std::string target;  // <target dev>
  std::string file;
  std::string backing;
  std::string backing_format;
};

// What the snapshot being taken is.
struct SnapshotInfo {
  std::string name;
  std::string created;
  std::string node;
  bool running = false;
  Consistency consistency = Consistency::offline;  // io sets the final value once it knows
};

struct CreatePlan {
  bool already_exists = false;   // a snapshot of this name exists: nothing to do
  std::vector<NewOverlay> overlays;
  std::string definition_xml;    // the VM's definition on the new overlays
  Catalogue after;
};

// Snapshot `info.name` of the VM whose catalogue is `before` (initial_catalogue for the first)
// and whose definition is `domain_xml`. New overlays are snapshots_dir/NAME-TARGET.N.qcow2, N the
// catalogue's next serial, skipping numbers whose file exists (`existing`: the files in
// snapshots_dir), so a file left by an interrupted command is never overwritten.
Result<CreatePlan> plan_create(const Catalogue& before, const vm::VmLayout& layout, std::string_view domain_xml,
                               const SnapshotInfo& info, const std::set<std::string>& existing);

struct RevertPlan {
  std::vector<NewOverlay> overlays;   // new current images, on the snapshot's images
  std::string definition_xml;         // the snapshot's definition on the new overlays
  Catalogue after;
  std::vector<std::string> remove;    // images no snapshot, copy or current state needs any more
};

// Back to snapshot `name`, any of them (not only the latest): the VM's state since then is
// thrown away, the snapshots stay. How libvirt >= 9.9 reverts external snapshots
// (qemuSnapshotRevertExternalPrepare): new overlays on the snapshot's images, the old ones
// unlinked unless something still needs them.
Result<RevertPlan> plan_revert(const Catalogue& before, const vm::VmLayout& layout, std::string_view name,
                               const std::set<std::string>& existing);

struct DeletePlan {
  Catalogue after;
  std::vector<std::string> remove;  // the snapshot's images nothing else needs
  std::vector<std::string> kept;    // its images that stay because the current disks stand on them
};

// Deletes snapshot `name`. Refused (Errc::invalid_argument, nothing changes) for a snapshot with
// child snapshots (their images are overlays on its image: merging them would need a block commit
// or `qemu-img commit`/`rebase`, which evos does not do) or one a booted copy stands on. A leaf
// snapshot the current state descends from leaves the catalogue, but its image stays as the
// backing file of the current disks (`kept`) until a revert no longer needs it.
Result<DeletePlan> plan_delete(const Catalogue& before, std::string_view name);

struct BootPlan {
  bool already_exists = false;   // `new_name` was already booted from this snapshot
  vm::VmLayout copy;
  std::vector<NewOverlay> overlays;  // the copy's disks: copy.disk(TARGET, "qcow2") on the snapshot's images
  std::string definition_xml;    // vm::copy_domain of the snapshot's definition: new name, no UUID/MACs
  Catalogue after;               // the original's catalogue, with the copy recorded
};

// Snapshot `name` of the VM as a new, independent VM `new_name` on `storage`.
Result<BootPlan> plan_boot(const Catalogue& before, std::string_view storage, std::string_view name, std::string_view new_name);

// The owned images nothing needs: not a snapshot's, a copy's base or a current image, nor the
// backing file of one that is needed.
std::vector<std::string> unneeded_images(const Catalogue& c);

// The <domainsnapshot> of a live snapshot (formatsnapshot.html), for virDomainSnapshotCreateXML
// with DISK_ONLY | NO_METADATA | ATOMIC: each disk external, on the overlay file libvirt makes.
std::string live_snapshot_xml(std::string_view name, const std::vector<NewOverlay>& overlays);

// The Pacemaker primitive that keeps the VM highly available: agent ocf:evos:vm with `config` one
// of `definitions` (the definition's path, as given and resolved), found in the CIB's
// configuration section (`cibadmin --query --scope configuration`), with its target-role meta
// attribute if it has one. Errc::invalid_config for a document that is not a CIB configuration.
struct HaResource {
  std::string id;
  std::optional<std::string> target_role;
};
Result<std::optional<HaResource>> find_ha_resource(std::string_view cib_xml, const std::vector<std::string>& definitions);

}  // namespace evos::snapshot
