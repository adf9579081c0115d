// evos::clone: copies of a VM as new VMs (`evosctl vm clone`) and templates (`evosctl vm
// template`). This header is the pure part: what a VM definition's disks are, whether it is a
// template, and the plan of a clone (per disk the new file and how it is made, and the new
// definition). The I/O that carries a plan out is evos/clone/operations.hpp.
//
// Methods, as Proxmox VE makes them (qm clone): a full clone is an independent copy, made by a
// reflink (FICLONE: the new file shares the source's blocks until either is written, on XFS with
// reflink=1 or btrfs) where the file system can, else by `qemu-img convert` (a real copy); a
// linked clone is a qcow2 overlay whose backing file is a template's disk, and is made only from
// a template, whose disks are read-only so the overlay's base never changes under it.
#pragma once

#include <evos/clone/image_info.hpp>
#include <evos/error.hpp>
#include <evos/snapshot/catalogue.hpp>
#include <evos/vm/layout.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace evos::clone {

// A disk (device='disk') of a domain definition: its target and image file.
struct DomainDisk {
  std::string target;  // <target dev>: "vda"
  std::string file;    // <source file>, absolute
  std::string format;  // <driver type>: "qcow2" or "raw"
};

// The disks of a definition, in document order. Errc::invalid_config naming the disk for one
// evos cannot copy: not a file (type='block', 'network', 'volume'), a relative or missing source,
// a format other than qcow2/raw, no or a repeated <target dev>. CD-ROMs and floppies are not
// disks here (a clone keeps them as they are).
Result<std::vector<DomainDisk>> domain_disks(std::string_view domain_xml);

// Templates are marked in their definition, so the mark travels with it on the shared storage
// and every node sees it: <metadata><evos-template:template xmlns:evos-template=
// "https://evos.dev/xmlns/template/1"/></metadata> (libvirt keeps foreign-namespace metadata,
// formatdomain.html#general-metadata). vm::copy_domain drops <metadata>, so a clone of a template
// is an ordinary VM.
inline constexpr char template_namespace[] = "https://evos.dev/xmlns/template/1";

// Whether a definition carries the template mark. Errc::invalid_config if it is not a domain.
Result<bool> is_template(std::string_view domain_xml);
// The definition with the template mark added (unchanged if it has it).
Result<std::string> mark_template(std::string_view domain_xml);

enum class Kind { full, linked };
enum class Method {
  reflink,  // FICLONE; where the file system cannot, the I/O falls back to copy and says so
  overlay,  // qemu-img create -f qcow2 -b SOURCE -F FORMAT
  copy,     // qemu-img convert (reads through any backing chain: the copy is standalone)
};
std::string_view to_string(Kind k);
std::string_view to_string(Method m);

struct DiskStep {
  std::string target;
  std::string source;         // the source VM's image
  std::string source_format;
  std::string file;           // the new image (vm::layout of the new VM)
  std::string format;         // its format
  Method method = Method::reflink;
  std::string why;            // one line: why this method
};

struct ClonePlan {
  vm::VmLayout target;
  Kind kind = Kind::full;
  std::vector<DiskStep> disks;
  std::string definition;     // the new VM's domain XML (vm::copy_domain)
};

// The facts the planner decides on, read by the I/O part.
struct SourceFacts {
  std::string definition;                   // the source's <NAME>.xml
  std::map<std::string, BackingChain> chains;  // by disk file: qemu-img info --backing-chain
};

// The plan of cloning `source` as `target` (both vm::layout). Errors (nothing is done):
// invalid_argument for a target named like the source, a linked clone of a VM that is not a
// template; invalid_config for a definition whose disks cannot be copied (domain_disks) or a
// domain without disks; backend for a disk whose chain is missing or whose top image is not the
// disk in the format the definition gives (qemu-img found another format: the definition would
// open it as something else).
Result<ClonePlan> plan_clone(const vm::VmLayout& source, const vm::VmLayout& target, Kind kind, const SourceFacts& facts);

// The definition a clone of snapshot `snap` of `source` starts from (`vm clone SRC NEW
// --from-snapshot SNAP`): the VM's definition when the snapshot was taken, each disk on the
// snapshot's frozen image. Nothing writes those images any more (the VM writes overlays on them,
// snapshot/catalogue.hpp), so the source may run meanwhile. A full clone only: a linked clone of
// a snapshot is what `vm snapshot boot` makes, whose overlays the catalogue records so the
// snapshot cannot be deleted under them. Errors: not_found for no such snapshot,
// invalid_argument for a linked clone, invalid_config for a catalogue that does not list a
// snapshot's image.
Result<std::string> snapshot_source(const vm::VmLayout& source, const snapshot::Catalogue& catalogue, std::string_view snap,
                                    Kind kind);

}  // namespace evos::clone
