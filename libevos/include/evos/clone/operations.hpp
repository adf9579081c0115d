// evos::clone I/O: clones and templates carried out on the storage (qemu-img through
// evos::proc::run, FICLONE, the VM directory of vm::layout). The decisions are the pure planner's
// (evos/clone/plan.hpp).
#pragma once

#include <evos/clone/image_info.hpp>
#include <evos/clone/plan.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::clone {

// `qemu-img info -f FORMAT --backing-chain -U --output=json FILE` parsed. The format is always
// given (from the definition): qemu-img never probes it, so a raw image whose guest wrote a qcow2
// header into it is never read as an overlay on some host file (qemu-img(1), "-f").
// Share::force (-U) reads the metadata of an image a running VM holds; Share::lock asks for the
// image's lock as check_not_in_use does (one qemu-img call for both), and refuses a disk in use.
enum class Share { force, lock };
Result<BackingChain> read_backing_chain(const std::string& file, const std::string& format, Deadline deadline,
                                        Share share = Share::force);

// Refuses an image a running QEMU holds open: `qemu-img info` without -U must get the image's
// lock (QEMU's image locking, fcntl OFD locks on the file: held by a QEMU on this node, and on
// another node where the shared file system carries POSIX locks, as NFSv4, GFS2 and OCFS2 do).
// Errc::invalid_argument "is in use" naming the disk, Errc::backend for other failures.
Result<void> check_not_in_use(const DomainDisk& disk, Deadline deadline);

struct ClonedDisk {
  std::string target;
  std::string file;
  std::string format;
  Method method = Method::copy;  // the method used (a reflink the file system refused is a copy)
  std::string why;               // why, with the refusal if a reflink fell back
};

struct CloneRequest {
  std::string storage;   // both VMs' storage (vm::layout)
  std::string source;
  std::string name;      // the new VM
  Kind kind = Kind::full;
  std::optional<std::string> snapshot;  // clone this snapshot's state (snapshot_source), not the VM's
  Deadline deadline = Deadline::after(Millis(3600000));
};

struct CloneResult {
  std::string name;
  std::string definition;  // the new <NAME>.xml
  Kind kind = Kind::full;
  std::vector<ClonedDisk> disks;
};

// Clones a shut-off VM (or a template), or the state of one of its snapshots (request.snapshot:
// the VM may run), as a new VM on the same storage: its directory, its disks
// (reflink, overlay or copy, per the plan), and last its definition, written atomically, so a
// definition exists only for a complete clone. The new VM is not defined in libvirt; it is
// started from its definition like any evos VM. Errors: not_found (no source definition),
// invalid_argument ("already exists" for a target directory that exists, a source disk in use,
// the planner's refusals), backend (a qemu-img or file system failure; everything the clone
// created is removed again), timeout.
Result<CloneResult> clone_vm(const CloneRequest& request);

struct TemplateResult {
  std::string name;
  bool already = false;            // it was a template already (nothing changed)
  std::vector<std::string> disks;  // its disk files, now read-only
};

// Makes the shut-off VM `name` a template: every disk file chmod a-w (as Proxmox makes a base
// image 0444), then the template mark written into its definition (plan.hpp). A VM that is a
// template already is left as it is (already = true). Errors as clone_vm; on a failure the disks'
// modes are put back.
Result<TemplateResult> make_template(const std::string& storage, const std::string& name, Deadline deadline);

// A disk of a VM on the storage whose backing chain holds a given file.
struct BackingUser {
  std::string vm;
  std::string target;
  std::string file;  // that VM's disk image
};

// Which VMs' disks on `storage` have `file` as a backing file (anywhere down their chain): the
// question vm delete asks before removing a template's or any VM's disks. Reads each VM
// directory's definition (vm::layout) and `qemu-img info --backing-chain` of its qcow2 disks;
// paths are compared canonical (symlinks resolved). A definition or chain that cannot be read is
// an error (Errc::backend naming it), never a "no users": the answer must not let a used base go.
Result<std::vector<BackingUser>> vms_using_backing_file(const std::string& storage, const std::string& file,
                                                        Deadline deadline);

// Reads a VM's definition (<storage>/<name>/<name>.xml): Errc::not_found if there is none.
Result<std::string> read_definition(const std::string& storage, const std::string& name);

}  // namespace evos::clone
