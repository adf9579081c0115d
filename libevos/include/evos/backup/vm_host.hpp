// evos::backup::VmHost: what a VM backup or restore asks of the hypervisor, as a port
// (virt::LibvirtHypervisor implements it over libvirt's backup, checkpoint and metadata APIs; the
// calls vm::Hypervisor has too, define, start, resume, abort_job, backup_running, are the same
// functions).
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::backup {

enum class VmRunState { shut_off, running, paused };

class VmHost {
 public:
  virtual ~VmHost() = default;
  // Errc::not_found when there is no such domain.
  virtual Result<VmRunState> run_state(const std::string& vm) = 0;
  // The running definition (live) or the persistent one (inactive, with secrets: a restore needs them).
  virtual Result<std::string> domain_xml(const std::string& vm, bool inactive) = 0;
  // The token in the live XML's evos metadata, if any (vm_plan.hpp, "run token").
  virtual Result<std::optional<std::string>> run_token(const std::string& vm) = 0;
  virtual Result<void> set_run_token(const std::string& vm, const std::string& token) = 0;
  // Freezes the guest's file systems through the QEMU guest agent: false if no agent answers
  // (the backup is then crash-consistent), an error only for a freeze that failed half way.
  virtual Result<bool> freeze(const std::string& vm) = 0;
  virtual Result<void> thaw(const std::string& vm) = 0;
  virtual Result<void> pause(const std::string& vm) = 0;
  virtual Result<void> resume(const std::string& vm) = 0;
  virtual Result<std::vector<std::string>> checkpoints(const std::string& vm) = 0;
  virtual Result<void> redefine_checkpoint(const std::string& vm, const std::string& xml) = 0;
  virtual Result<std::string> checkpoint_xml(const std::string& vm, const std::string& name) = 0;
  virtual Result<void> delete_checkpoint(const std::string& vm, const std::string& name) = 0;
  // virDomainBackupBegin (pull mode: the NBD export stays until abort_job) / virDomainAbortJob.
  virtual Result<void> begin_backup(const std::string& vm, const std::string& backup_xml, const std::string& checkpoint_xml) = 0;
  virtual Result<void> abort_job(const std::string& vm) = 0;
  // A backup job runs on the domain now (libvirt would make a second begin wait 30 s, then fail).
  virtual Result<bool> backup_running(const std::string& vm) = 0;
  virtual Result<void> define(const std::string& xml) = 0;
  virtual Result<void> start(const std::string& vm) = 0;
};

}  // namespace evos::backup
