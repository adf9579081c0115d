// The network part of `evosctl cluster check` (pure): for every HA VM (an ocf:evos:vm primitive
// and the domain XML its `config` names) and every node it may fail over to, whether each of its
// interfaces would find its network there: a libvirt network of that name, active, and defined
// as on the node the VM runs on (or, when it runs nowhere, as on the first node that has it); a
// bridge interface's host bridge, where the node's bridges are known.
#pragma once

#include <evos/network/admin.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace evos::network {

// What one node's hypervisor said (or why it said nothing).
struct NodeFacts {
  std::string node;
  std::optional<std::string> error;              // unreachable: every VM's networks are in doubt there
  std::vector<NetworkInfo> networks;
  std::optional<std::set<std::string>> bridges;  // host bridges (active interfaces); nullopt: unknown
};

struct HaVm {
  std::string resource;                // "vm-web1"
  std::string config;                  // the domain XML's path
  std::optional<std::string> xml;      // nullopt: config unreadable here
  std::string read_error;
  std::vector<std::string> running_on; // Pacemaker's view
};

// dynamic_address: an interface on a nat network with DHCP but no static entry for its MAC (or
// no MAC at all, so libvirt makes a new one at every define). Each node's dnsmasq keeps its own
// leases, so after a failover the VM may get another address, or one that a VM on that node has.
enum class Problem { config_unreadable, node_unreachable, network_missing, network_inactive, network_differs, bridge_missing, bridge_unknown,
                     dynamic_address };
std::string_view to_string(Problem p);

struct Finding {
  std::string resource;
  std::string node;     // "" for config_unreadable
  Problem problem = Problem::network_missing;
  std::string source;   // the network or bridge
  std::string detail;   // a sentence for the administrator
  // bridge_unknown (the node's interfaces could not be listed) and dynamic_address only warn;
  // every other finding means a failover to that node would leave the VM without a network (or
  // not start it).
  [[nodiscard]] bool blocking() const { return problem != Problem::bridge_unknown && problem != Problem::dynamic_address; }
};

std::vector<Finding> check_vm_networks(const std::vector<HaVm>& vms, const std::vector<NodeFacts>& nodes);

}  // namespace evos::network
