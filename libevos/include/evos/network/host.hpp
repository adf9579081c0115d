// evos::network::NetworkHost: what network administration asks of one node's hypervisor, as a
// port (virt::LibvirtHypervisor implements it over virConnectListAllNetworks, virNetworkDefineXML,
// virNetworkCreate, virNetworkSetAutostart, virNetworkDestroy, virNetworkUndefine; tests use
// fakes). Each call is one libvirt RPC or a few, bounded like every libvirt call (keepalive, and
// the caller's watchdog naming the call, see evos/virt/libvirt_hypervisor.hpp).
#pragma once

#include <evos/error.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace evos::network {

struct NetworkInfo {
  std::string name;
  bool active = false;
  bool persistent = false;
  bool autostart = false;
  std::string xml;  // the persistent definition (VIR_NETWORK_XML_INACTIVE), or the live one
};

// A domain and the XML definitions it has on the node: the persistent one and, while it runs,
// the live one (both may name networks).
struct DomainDefinitions {
  std::string name;
  bool active = false;
  std::vector<std::string> xmls;
};

class NetworkHost {
 public:
  virtual ~NetworkHost() = default;
  virtual Result<std::vector<NetworkInfo>> networks() = 0;
  // Defines a persistent network (virNetworkDefineXML).
  virtual Result<void> define_network(const std::string& xml) = 0;
  // Starts it (virNetworkCreate: bridge, and for nat dnsmasq and the firewall rules).
  virtual Result<void> start_network(const std::string& name) = 0;
  // Starts it with the node's libvirtd (virNetworkSetAutostart): after a reboot a failed-over VM
  // finds it running.
  virtual Result<void> set_network_autostart(const std::string& name, bool on) = 0;
  // Stops it (virNetworkDestroy); no error when it is not running.
  virtual Result<void> stop_network(const std::string& name) = 0;
  // Removes the persistent definition (virNetworkUndefine).
  virtual Result<void> undefine_network(const std::string& name) = 0;
  // Every domain, defined or running, with its definitions.
  virtual Result<std::vector<DomainDefinitions>> domain_definitions() = 0;
  // The host's bridges, up or down (virConnectListAllInterfaces, type bridge); nullopt when this
  // libvirtd cannot list host interfaces (no interface driver).
  virtual Result<std::optional<std::set<std::string>>> host_bridges() = 0;
};

}  // namespace evos::network
