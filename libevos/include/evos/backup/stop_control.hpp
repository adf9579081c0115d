// How a backup in mode `stop` shuts a running VM down and starts it again afterwards (Proxmox's
// vzdump mode "stop": the most consistent backup, at the price of downtime). Two ways:
//  - outside a cluster, through the hypervisor: a guest shutdown request (ACPI, or the guest
//    agent), waited for up to the stop timeout. A VM that does not shut down in time is left
//    running and the backup fails: a backup never pulls the plug on a guest.
//  - an HA VM, through Pacemaker (PacemakerStopControl, evos_io): target-role Stopped, waited for,
//    and afterwards the target-role it had. Pacemaker stops it with the VM agent's own policy;
//    a VM is never stopped or started behind the cluster's back.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/vm/hypervisor.hpp>

#include <memory>
#include <string>

namespace evos::backup {

class VmStopControl {
 public:
  virtual ~VmStopControl() = default;
  // "through libvirt (shutdown request)" / "through Pacemaker (resource vm-web1)", for the output.
  [[nodiscard]] virtual std::string describe() const = 0;
  // Returns when the VM is shut off; Errc::timeout at the deadline (the VM is then left as it is).
  virtual Result<void> stop(Deadline deadline) = 0;
  // Starts it again (after stop succeeded) and returns when it runs.
  virtual Result<void> start(Deadline deadline) = 0;
};

class HypervisorStopControl final : public VmStopControl {
 public:
  HypervisorStopControl(vm::Hypervisor& hypervisor, std::string vm, TimeSource& time = steady_time())
      : hv_(hypervisor), vm_(std::move(vm)), time_(time) {}
  [[nodiscard]] std::string describe() const override { return "through libvirt (a guest shutdown request)"; }
  Result<void> stop(Deadline deadline) override;
  Result<void> start(Deadline deadline) override;

 private:
  Result<void> wait(Deadline deadline, bool running);

  vm::Hypervisor& hv_;
  std::string vm_;
  TimeSource& time_;
};

// How to stop `vm` here (evos_io): through Pacemaker when this node's Pacemaker answers and its
// configuration has the VM's primitive (cluster::vm_resource_id, agent ocf:evos:vm); through the
// hypervisor when no Pacemaker runs here (query_configuration_if_running) or it has no such
// primitive. A primitive of another agent under that id is an error: evos cannot tell who owns it.
Result<std::unique_ptr<VmStopControl>> stop_control_for(vm::Hypervisor& hypervisor, const std::string& vm,
                                                        Deadline deadline);

}  // namespace evos::backup
