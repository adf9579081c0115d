// evos's own snapshot catalogue of a VM, kept in the VM's directory on the shared storage
// (vm::layout(...).snapshots_dir()/catalogue.json), so either node lists, reverts and boots the
// same snapshots, and they survive live migration and failover. libvirt holds no snapshot
// metadata at all (snapshots are made with VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA): libvirt's is
// per host (/var/lib/libvirt/qemu/snapshot/<domain>/), and its qemu driver refuses to migrate a
// domain that has any ("cannot migrate domain with N snapshots", qemuMigrationSrcIsAllowed).
//
// The snapshots are external, disk-only qcow2 overlays (docs/vm-ops.md, "Snapshots"): taking
// snapshot S makes the image the VM wrote so far S's image (immutable from then on) and gives the
// VM a new empty overlay on it. So the catalogue is a set of images, each an overlay on another
// (its backing file), and names which image each snapshot froze, which images the VM writes now
// (`current`), and which VMs booted from a snapshot stand on its images (`copies`).
#pragma once

#include <evos/error.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::snapshot {

inline constexpr int catalogue_version = 1;
inline constexpr char catalogue_format[] = "evos-vm-snapshots";
inline constexpr char catalogue_file_name[] = "catalogue.json";

enum class Consistency {
  frozen,            // the guest agent froze the file systems (fsfreeze; VSS on Windows)
  crash_consistent,  // taken live without a guest agent: as after a power cut
  offline,           // the VM was shut off
};
std::string_view to_string(Consistency c);
Result<Consistency> parse_consistency(std::string_view text);

// One disk image file the catalogue knows.
struct Image {
  std::string file;                   // absolute path
  std::string format;                 // "qcow2" or "raw" (libvirt <driver type>)
  std::optional<std::string> backing; // the image this one is an overlay on (a file in `images`)
  // evos made it (an overlay under snapshots/): only such images are ever removed by snapshot
  // commands. The VM's own first images (and whatever they are based on) belong to the VM.
  bool owned = false;
};

struct Snapshot {
  std::string name;
  std::optional<std::string> parent;         // the snapshot the VM's state descended from
  std::string created;                       // UTC, "2026-12-07T01:54:42Z"
  std::string node;                          // where it was taken
  Consistency consistency = Consistency::offline;
  bool was_running = false;
  std::map<std::string, std::string> disks;  // <target dev> -> its frozen image (a file in `images`)
  std::string domain_xml;                    // the VM's definition when it was taken
};

// A VM booted from a snapshot (`vm snapshot boot ... --as NEW`): its overlays stand on the
// snapshot's images, so that snapshot cannot be deleted while the copy exists.
struct Copy {
  std::string vm;
  std::string snapshot;
  std::map<std::string, std::string> disks;  // <target dev> -> the copy's overlay
};

struct Catalogue {
  std::string vm;
  unsigned next_serial = 1;                  // numbers the overlay files evos makes
  std::map<std::string, Image> images;       // by file
  std::vector<Snapshot> snapshots;           // in the order they were taken
  std::optional<std::string> current_parent; // the snapshot the current state descends from
  std::map<std::string, std::string> current;  // <target dev> -> the image the VM writes now
  std::vector<Copy> copies;

  [[nodiscard]] const Snapshot* find(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> children(std::string_view name) const;
};

// A snapshot name evos accepts, or the problem with it: the characters of VM names
// (vm::name_problem: A-Z a-z 0-9 . _ - +, not starting with '.' or '-'), at most 64.
std::optional<std::string> snapshot_name_problem(std::string_view name);

// The catalogue of `vm` from its JSON. Errc::invalid_config naming the problem for anything that
// is not a catalogue of this format and version, or whose references do not hold together
// (a snapshot naming an unknown parent or image, a loop of parents, a second snapshot of one name).
Result<Catalogue> parse_catalogue(std::string_view json, std::string_view vm);
std::string render_catalogue(const Catalogue& c);

// A disk of a domain definition that snapshots cover (device='disk').
struct DomainDisk {
  std::string target;  // <target dev>
  std::string type;    // <disk type>: "file" or "block"
  std::string source;  // <source file> or <source dev>
  std::string format;  // <driver type>
};

// The disks of a definition. Errc::invalid_config for a document that is not a domain, or a disk
// evos cannot snapshot (a network or volume disk, one without a source or a target).
Result<std::vector<DomainDisk>> domain_disks(std::string_view domain_xml);
Result<std::string> domain_name(std::string_view domain_xml);

// `domain_xml` with the listed disks (by target) on new files: <disk type='file'>, <source file>,
// <driver type>; any <backingStore> dropped (QEMU reads the chain from the qcow2 headers).
struct DiskSource {
  std::string file;
  std::string format;
};
Result<std::string> with_disk_sources(std::string_view domain_xml, const std::map<std::string, DiskSource>& disks);

// The catalogue of a VM that has no snapshot yet: its current images are the definition's disks.
Result<Catalogue> initial_catalogue(std::string_view vm, std::string_view domain_xml);

// The definition must use exactly the images the catalogue calls current; otherwise an earlier
// snapshot command was interrupted, or someone changed the disks behind evos's back, and going on
// could write into an image a snapshot needs. Errc::invalid_config naming the disk and both files.
Result<void> check_definition(const Catalogue& c, std::string_view domain_xml);

}  // namespace evos::snapshot
