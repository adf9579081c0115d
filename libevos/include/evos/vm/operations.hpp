// A VM's life on this node: create (directory, disks, definition, libvirt or the cluster),
// start/stop/restart (through Pacemaker when it manages the VM, else libvirt), delete. The
// I/O half of evosctl's `vm create|start|stop|restart|delete|console`; the decisions are in
// vm/spec.hpp, vm/delete_plan.hpp and cluster/vm_ha.hpp.
#pragma once

#include <evos/cluster/vm_ha_io.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/log.hpp>
#include <evos/vm/delete_plan.hpp>
#include <evos/vm/spec.hpp>

#include <map>
#include <string>
#include <vector>

namespace evos::virt {
class LibvirtHypervisor;
}

namespace evos::vm {

struct CreateOptions {
  bool ha = false;                 // put it under Pacemaker (vm-shared.crm)
  std::string ha_template;         // vm-shared.crm's text, when ha
  bool migration_unsafe = false;   // the template's migration_unsafe
  int shutdown_timeout_s = 0;      // the template's shutdown_timeout (0: until the stop timeout)
  bool start = false;
  Deadline deadline = Deadline::after(Millis(600000));
};

enum class CreateOutcome { created, already_exists };

struct Created {
  CreateOutcome outcome = CreateOutcome::created;
  VmSpec spec;
  std::string resource;  // the cluster resource, with --ha
  bool started = false;
};

// Creates the VM of `spec` in its directory (vm::layout): directory (mode 0711), kernel and
// initrd copies, disks (`qemu-img create`, or `qemu-img convert` of --import; argv, deadline),
// then the definition, last and atomically; then defines it in libvirt on this node (without
// --ha) or loads its cluster resource (--ha). Anything failing on the way removes everything
// made so far (the directory, the libvirt definition). A VM whose existing definition is what
// this request would write (same UUID and MACs put back) is CreateOutcome::already_exists; an
// existing different one, a directory without a definition, or a libvirt domain or cluster
// resource of that name not made from this definition are Errc::invalid_argument naming it.
Result<Created> create_vm(const VmSpec& spec, const CreateOptions& options, virt::LibvirtHypervisor& hv, Log& log);

// Who manages an existing VM, and its definition's text.
struct VmFacts {
  VmLayout layout;
  std::string definition_xml;
  cluster::VmHaView ha;
};
// Errc::not_found when `layout` has no definition. Without `no_cluster`, a node whose cluster
// cannot be asked (ha.cluster false because the CIB is unreachable, Pacemaker installed) is
// Errc::not_installed: whether the cluster manages the VM is unknown, and acting through libvirt
// could start it twice. With `no_cluster` the cluster is not asked.
Result<VmFacts> vm_facts(const VmLayout& layout, bool no_cluster, Deadline deadline);

enum class PowerAction { start, stop, restart };
struct PowerResult {
  bool through_cluster = false;
  std::vector<std::string> nodes;  // where it runs afterwards (cluster), or empty
  bool changed = true;             // false: it was already so
};
// A cluster-managed VM: target-role, then the wait until the cluster reports it so. Otherwise
// libvirt on this node through vm::Service (start defines from the definition file first; stop
// shuts down gracefully for up to `shutdown` - 0: most of the time left - then destroys).
Result<PowerResult> power_vm(const VmFacts& facts, PowerAction what, std::chrono::seconds shutdown, virt::LibvirtHypervisor& hv,
                             Log& log, Deadline deadline);

struct Deleted {
  std::vector<std::string> steps;  // what was removed, in order, for the output
};
// Gathers DeleteFacts (libvirt here, the cluster, `qemu-img info --backing-chain -U` over the
// other VMs' images in the storage directory), decides (plan_delete), then removes the cluster
// resource, the libvirt definition here, and the VM's directory (or, with keep_disks, only its
// definition and logs).
Result<Deleted> delete_vm(const VmFacts& facts, bool yes, bool keep_disks, virt::LibvirtHypervisor& hv, Deadline deadline);

// Every image's backing chain under `storage` (files *.qcow2 in each VM directory and its
// snapshots/), except those under `skip_dir`: image -> backing files (canonical paths).
Result<std::map<std::string, std::vector<std::string>>> storage_backing_chains(const std::string& storage,
                                                                                const std::string& skip_dir, Deadline deadline);

}  // namespace evos::vm
