// LibvirtHypervisor's call for `evosctl vm delete` (virDomainUndefineFlags).
#include "libvirt_internal.hpp"

namespace evos::virt {

Result<void> LibvirtHypervisor::undefine(const std::string& domain) {
  Activity a(fmt::format("libvirt: undefine domain '{}'", domain));
  auto dom = impl_->lookup(domain);
  if (!dom) return std::move(dom).error();
  const unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                         VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
  if (virDomainUndefineFlags(dom->get(), flags) < 0) return detail::last_error(fmt::format("undefine domain '{}'", domain));
  return {};
}

}  // namespace evos::virt
