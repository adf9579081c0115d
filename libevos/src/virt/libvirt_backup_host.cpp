// backup::VmHost over libvirt: formatbackup.rst, formatcheckpoint.rst, virDomainSetMetadata.
#include "libvirt_internal.hpp"

#include <evos/backup/vm_plan.hpp>

#include <cstdlib>

namespace evos::virt {
namespace {

using detail::last_error;
using detail::last_error_code;

struct CheckpointFree {
  void operator()(virDomainCheckpointPtr c) const noexcept { virDomainCheckpointFree(c); }
};
using CheckpointPtr = std::unique_ptr<virDomainCheckpoint, CheckpointFree>;

std::string take(char* text) {
  std::string s = text ? text : "";
  std::free(text);
  return s;
}

}  // namespace

Result<backup::VmRunState> LibvirtHypervisor::run_state(const std::string& vm) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  int state = 0, reason = 0;
  if (virDomainGetState(dom->get(), &state, &reason, 0) < 0) return last_error(fmt::format("read the state of '{}'", vm));
  if (state == VIR_DOMAIN_RUNNING) return backup::VmRunState::running;
  if (state == VIR_DOMAIN_PAUSED) return backup::VmRunState::paused;
  if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED) return backup::VmRunState::shut_off;
  return make_error(Errc::backend, "domain '{}' is in a state a backup cannot use (libvirt state {}); try again", vm, state);
}

Result<std::string> LibvirtHypervisor::domain_xml(const std::string& vm, bool inactive) {
  Activity a(fmt::format("libvirt: read the definition of '{}'", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  char* xml = virDomainGetXMLDesc(dom->get(), VIR_DOMAIN_XML_SECURE | (inactive ? VIR_DOMAIN_XML_INACTIVE : 0));
  if (!xml) return last_error(fmt::format("read the definition of '{}'", vm));
  return take(xml);
}

Result<std::optional<std::string>> LibvirtHypervisor::run_token(const std::string& vm) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  char* xml = virDomainGetMetadata(dom->get(), VIR_DOMAIN_METADATA_ELEMENT, backup::run_token_namespace, VIR_DOMAIN_AFFECT_LIVE);
  if (!xml) {
    if (last_error_code() == VIR_ERR_NO_DOMAIN_METADATA) return std::optional<std::string>();
    return last_error(fmt::format("read the live metadata of '{}'", vm));
  }
  return backup::parse_run_token(take(xml));
}

Result<void> LibvirtHypervisor::set_run_token(const std::string& vm, const std::string& token) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  // Live only: it must vanish with the running domain (and travel with a live migration).
  if (virDomainSetMetadata(dom->get(), VIR_DOMAIN_METADATA_ELEMENT, backup::run_token_xml(token).c_str(),
                           backup::run_token_prefix, backup::run_token_namespace, VIR_DOMAIN_AFFECT_LIVE) < 0)
    return last_error(fmt::format("mark the run of '{}' (live metadata)", vm));
  return {};
}

Result<bool> LibvirtHypervisor::freeze(const std::string& vm) {
  Activity a(fmt::format("libvirt: freeze the file systems of '{}' (QEMU guest agent)", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  if (virDomainFSFreeze(dom->get(), nullptr, 0, 0) >= 0) return true;
  switch (last_error_code()) {
    case VIR_ERR_ARGUMENT_UNSUPPORTED:   // "QEMU guest agent is not configured"
    case VIR_ERR_AGENT_UNRESPONSIVE:     // configured, not answering
    case VIR_ERR_AGENT_UNSYNCED:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_NO_SUPPORT:
      return false;
    default:
      return last_error(fmt::format("freeze the file systems of '{}'", vm));
  }
}

Result<void> LibvirtHypervisor::thaw(const std::string& vm) {
  Activity a(fmt::format("libvirt: thaw the file systems of '{}'", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  if (virDomainFSThaw(dom->get(), nullptr, 0, 0) < 0) return last_error(fmt::format("thaw the file systems of '{}'", vm));
  return {};
}

Result<void> LibvirtHypervisor::pause(const std::string& vm) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  if (virDomainSuspend(dom->get()) < 0) return last_error(fmt::format("pause '{}'", vm));
  return {};
}

Result<std::vector<std::string>> LibvirtHypervisor::checkpoints(const std::string& vm) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  virDomainCheckpointPtr* raw = nullptr;
  const int n = virDomainListAllCheckpoints(dom->get(), &raw, 0);
  if (n < 0) return last_error(fmt::format("list the checkpoints of '{}'", vm));
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    CheckpointPtr cp(raw[i]);
    names.emplace_back(virDomainCheckpointGetName(cp.get()));
  }
  std::free(raw);
  return names;
}

Result<void> LibvirtHypervisor::redefine_checkpoint(const std::string& vm, const std::string& xml) {
  Activity a(fmt::format("libvirt: redefine a checkpoint of '{}'", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  CheckpointPtr cp(virDomainCheckpointCreateXML(dom->get(), xml.c_str(), VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE));
  if (!cp) return last_error(fmt::format("redefine a checkpoint of '{}'", vm));
  return {};
}

Result<std::string> LibvirtHypervisor::checkpoint_xml(const std::string& vm, const std::string& name) {
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  CheckpointPtr cp(virDomainCheckpointLookupByName(dom->get(), name.c_str(), 0));
  if (!cp) return last_error(fmt::format("look up checkpoint '{}' of '{}'", name, vm));
  char* xml = virDomainCheckpointGetXMLDesc(cp.get(), VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN);
  if (!xml) return last_error(fmt::format("read checkpoint '{}' of '{}'", name, vm));
  return take(xml);
}

Result<void> LibvirtHypervisor::delete_checkpoint(const std::string& vm, const std::string& name) {
  Activity a(fmt::format("libvirt: delete checkpoint '{}' of '{}'", name, vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  CheckpointPtr cp(virDomainCheckpointLookupByName(dom->get(), name.c_str(), 0));
  if (!cp) return last_error(fmt::format("look up checkpoint '{}' of '{}'", name, vm));
  if (virDomainCheckpointDelete(cp.get(), 0) < 0) return last_error(fmt::format("delete checkpoint '{}' of '{}'", name, vm));
  return {};
}

Result<void> LibvirtHypervisor::begin_backup(const std::string& vm, const std::string& backup_xml, const std::string& checkpoint_xml) {
  Activity a(fmt::format("libvirt: begin a backup of '{}' (virDomainBackupBegin)", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  if (virDomainBackupBegin(dom->get(), backup_xml.c_str(), checkpoint_xml.empty() ? nullptr : checkpoint_xml.c_str(), 0) < 0)
    return last_error(fmt::format("begin a backup of '{}'", vm));
  return {};
}

Result<void> LibvirtHypervisor::abort_job(const std::string& vm) {
  Activity a(fmt::format("libvirt: end the job of '{}' (virDomainAbortJob)", vm));
  auto dom = impl_->lookup(vm);
  if (!dom) return std::move(dom).error();
  if (virDomainAbortJob(dom->get()) < 0) return last_error(fmt::format("end the job of '{}'", vm));
  return {};
}

Result<bool> LibvirtHypervisor::backup_running(const std::string& domain) {
  Activity a(fmt::format("libvirt: job of domain '{}' (virDomainGetJobStats)", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  int type = VIR_DOMAIN_JOB_NONE;
  virTypedParameterPtr params = nullptr;
  int count = 0;
  if (virDomainGetJobStats(dom->get(), &type, &params, &count, 0) < 0) {
    // A driver without jobs (test:///) has no backup jobs either.
    if (last_error_code() == VIR_ERR_NO_SUPPORT) return false;
    return last_error(fmt::format("read the job of '{}'", domain));
  }
  int operation = 0;
  const bool known = virTypedParamsGetInt(params, count, VIR_DOMAIN_JOB_OPERATION, &operation) == 1;
  virTypedParamsFree(params, count);
  return type != VIR_DOMAIN_JOB_NONE && known && operation == VIR_DOMAIN_JOB_OPERATION_BACKUP;
}


}  // namespace evos::virt
