// evos::vm::Service: the VM resource's actions over a Hypervisor port. It decides (idempotence,
// what a state means, when to give up) and logs each step; it knows nothing of OCF or libvirt.
#pragma once

#include <evos/deadline.hpp>
#include <evos/log.hpp>
#include <evos/vm/domain_config.hpp>
#include <evos/vm/hypervisor.hpp>
#include <evos/vm/params.hpp>

namespace evos::vm {

class Service {
 public:
  // `time` is what its waits (shutdown, arrival) poll and sleep on; tests pass a fake.
  Service(Hypervisor& hypervisor, Log& log, Params params, DomainIdentity identity, TimeSource& time = steady_time());

  // OCF_CHECK_LEVEL >= 10 adds the control-channel and disk-error checks.
  Result<Assessment> monitor(int check_level);
  // Defines the domain from `domain_xml` and starts it; succeeds if it already runs. A domain
  // that would start refuses first when this node lacks a network it needs (check_networks).
  Result<void> start(const std::string& domain_xml, Deadline deadline);
  // Every libvirt network `domain_xml` names (<interface type='network'>) is defined and active
  // on this node, else Errc::not_installed naming each: a component missing on this node only,
  // so the agent answers OCF_ERR_INSTALLED and Pacemaker keeps the VM off this node but may
  // start it on the other (OCF_ERR_CONFIGURED would stop it everywhere). validate-all asks too.
  Result<void> check_networks(const std::string& domain_xml);
  // Shuts the domain down within the graceful budget, then destroys it; succeeds if absent.
  Result<void> stop(Deadline deadline);
  // Peer-to-peer live migration to `node`. Snapshot metadata (which blocks migration) is
  // moved along: saved, dropped here, and redefined on the destination. A backup job running on
  // the domain (which blocks migration too) is waited for, up to half the time left; then it is
  // ended, so the backup fails cleanly and the migration goes ahead (docs/vm-agent.md).
  Result<MigrationStats> migrate_to(const std::string& node, const HypervisorConnector& connect, Deadline deadline);
  // On the destination: confirms the domain arrived and runs; reports the job's statistics.
  Result<Assessment> migrate_from(Deadline deadline);

 private:
  Result<DomainState> wait_for(Deadline deadline, const std::function<bool(const DomainState&)>& done);
  Result<void> wait_for_backup(Deadline deadline);
  void restore_snapshots(Hypervisor& where, const std::vector<SnapshotMetadata>& snapshots, std::string_view host);

  Hypervisor& hv_;
  Log& log_;
  Params params_;
  DomainIdentity id_;
  TimeSource& time_;
};

}  // namespace evos::vm
