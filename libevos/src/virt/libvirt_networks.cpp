// network::NetworkHost and Hypervisor::network_presence over libvirt's network API
// (libvirt-network.h). Each call names its activity, so a hung libvirtd is reported by the
// caller's watchdog with the call it hung in; the connection's keepalive ends it too.
#include <evos/activity.hpp>
#include <evos/network/admin.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include "libvirt_internal.hpp"

#include <algorithm>
#include <cstdlib>

namespace evos::virt {
namespace {

using detail::last_error;
using detail::last_error_code;

struct NetworkFree {
  void operator()(virNetworkPtr n) const noexcept { virNetworkFree(n); }
};
using NetworkPtr = std::unique_ptr<virNetwork, NetworkFree>;
struct InterfaceFree {
  void operator()(virInterfacePtr i) const noexcept { virInterfaceFree(i); }
};
using InterfacePtr = std::unique_ptr<virInterface, InterfaceFree>;

Result<NetworkPtr> lookup_network(virConnectPtr conn, const std::string& name) {
  NetworkPtr net(virNetworkLookupByName(conn, name.c_str()));
  if (!net) return last_error(fmt::format("look up network '{}'", name));
  return net;
}

std::string take(char* s) {
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

}  // namespace

Result<vm::NetworkPresence> LibvirtHypervisor::network_presence(const std::string& name) {
  Activity a(fmt::format("libvirt: look up network '{}' (virNetworkLookupByName)", name));
  auto net = lookup_network(impl_->conn.get(), name);
  if (!net) {
    if (net.error().code() == Errc::not_found) return vm::NetworkPresence::missing;
    return std::move(net).error();
  }
  const int active = virNetworkIsActive(net->get());
  if (active < 0) return last_error(fmt::format("is network '{}' active", name));
  return active == 1 ? vm::NetworkPresence::active : vm::NetworkPresence::inactive;
}

Result<std::vector<network::NetworkInfo>> LibvirtHypervisor::networks() {
  Activity a(fmt::format("libvirt: list networks of {} (virConnectListAllNetworks)", uri_));
  virNetworkPtr* raw = nullptr;
  const int n = virConnectListAllNetworks(impl_->conn.get(), &raw, 0);
  if (n < 0) return last_error(fmt::format("list networks of {}", uri_));
  std::vector<NetworkPtr> nets;
  for (int i = 0; i < n; ++i) nets.emplace_back(raw[i]);
  std::free(raw);
  std::vector<network::NetworkInfo> out;
  for (const auto& net : nets) {
    network::NetworkInfo info;
    info.name = virNetworkGetName(net.get());
    info.active = virNetworkIsActive(net.get()) == 1;
    info.persistent = virNetworkIsPersistent(net.get()) == 1;
    int autostart = 0;
    info.autostart = virNetworkGetAutostart(net.get(), &autostart) == 0 && autostart != 0;
    // The persistent definition is what the node starts after a reboot: compare that one.
    char* xml = virNetworkGetXMLDesc(net.get(), info.persistent ? VIR_NETWORK_XML_INACTIVE : 0);
    // Drivers without the flag (the test driver: "unsupported flags") have one definition only.
    if (!xml && info.persistent && (last_error_code() == VIR_ERR_INVALID_ARG || last_error_code() == VIR_ERR_NO_SUPPORT))
      xml = virNetworkGetXMLDesc(net.get(), 0);
    if (!xml) {
      if (last_error_code() == VIR_ERR_NO_NETWORK) continue;  // undefined meanwhile
      return last_error(fmt::format("read network '{}'", info.name));
    }
    info.xml = take(xml);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return out;
}

Result<void> LibvirtHypervisor::define_network(const std::string& xml) {
  Activity a(fmt::format("libvirt: define network on {} (virNetworkDefineXML)", uri_));
  NetworkPtr net(virNetworkDefineXML(impl_->conn.get(), xml.c_str()));
  if (!net) return last_error("define network from its XML");
  return {};
}

Result<void> LibvirtHypervisor::start_network(const std::string& name) {
  Activity a(fmt::format("libvirt: start network '{}' (virNetworkCreate)", name));
  auto net = lookup_network(impl_->conn.get(), name);
  if (!net) return std::move(net).error();
  if (virNetworkCreate(net->get()) < 0) return last_error(fmt::format("start network '{}'", name));
  return {};
}

Result<void> LibvirtHypervisor::set_network_autostart(const std::string& name, bool on) {
  Activity a(fmt::format("libvirt: autostart network '{}' (virNetworkSetAutostart)", name));
  auto net = lookup_network(impl_->conn.get(), name);
  if (!net) return std::move(net).error();
  if (virNetworkSetAutostart(net->get(), on ? 1 : 0) < 0) return last_error(fmt::format("set autostart of network '{}'", name));
  return {};
}

Result<void> LibvirtHypervisor::stop_network(const std::string& name) {
  Activity a(fmt::format("libvirt: stop network '{}' (virNetworkDestroy)", name));
  auto net = lookup_network(impl_->conn.get(), name);
  if (!net) return std::move(net).error();
  if (virNetworkIsActive(net->get()) != 1) return {};
  if (virNetworkDestroy(net->get()) < 0 && last_error_code() != VIR_ERR_OPERATION_INVALID)
    return last_error(fmt::format("stop network '{}'", name));
  return {};
}

Result<void> LibvirtHypervisor::undefine_network(const std::string& name) {
  Activity a(fmt::format("libvirt: undefine network '{}' (virNetworkUndefine)", name));
  auto net = lookup_network(impl_->conn.get(), name);
  if (!net) return std::move(net).error();
  if (virNetworkUndefine(net->get()) < 0) return last_error(fmt::format("undefine network '{}'", name));
  return {};
}

Result<std::vector<network::DomainDefinitions>> LibvirtHypervisor::domain_definitions() {
  Activity a(fmt::format("libvirt: list domains of {} with their definitions", uri_));
  virDomainPtr* raw = nullptr;
  const int n = virConnectListAllDomains(impl_->conn.get(), &raw, 0);
  if (n < 0) return last_error(fmt::format("list domains of {}", uri_));
  std::vector<DomainPtr> doms;
  for (int i = 0; i < n; ++i) doms.emplace_back(raw[i]);
  std::free(raw);
  std::vector<network::DomainDefinitions> out;
  for (const auto& d : doms) {
    network::DomainDefinitions def;
    def.name = virDomainGetName(d.get());
    def.active = virDomainIsActive(d.get()) == 1;
    const bool persistent = virDomainIsPersistent(d.get()) == 1;
    if (def.active) def.xmls.push_back(take(virDomainGetXMLDesc(d.get(), 0)));
    if (persistent) def.xmls.push_back(take(virDomainGetXMLDesc(d.get(), VIR_DOMAIN_XML_INACTIVE)));
    std::erase_if(def.xmls, [](const std::string& x) { return x.empty(); });  // vanished meanwhile
    out.push_back(std::move(def));
  }
  return out;
}

Result<std::optional<std::set<std::string>>> LibvirtHypervisor::host_bridges() {
  Activity a(fmt::format("libvirt: list host interfaces of {} (virConnectListAllInterfaces)", uri_));
  virInterfacePtr* raw = nullptr;
  // Up or down: a bridge without ports has no carrier, and guests can still join it.
  const int n = virConnectListAllInterfaces(impl_->conn.get(), &raw, 0);
  if (n < 0) {
    const int code = last_error_code();
    if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_NO_INTERFACE) return std::optional<std::set<std::string>>();
    return last_error(fmt::format("list host interfaces of {}", uri_));
  }
  std::vector<InterfacePtr> ifs;
  for (int i = 0; i < n; ++i) ifs.emplace_back(raw[i]);
  std::free(raw);
  std::set<std::string> out;
  for (const auto& i : ifs)
    if (auto b = network::bridge_of_interface(take(virInterfaceGetXMLDesc(i.get(), 0)))) out.insert(*b);
  return std::optional<std::set<std::string>>(std::move(out));
}

}  // namespace evos::virt
