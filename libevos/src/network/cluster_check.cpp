#include <evos/network/cluster_check.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace evos::network {
namespace {

const NetworkInfo* find(const NodeFacts& n, const std::string& name) {
  for (const auto& x : n.networks)
    if (x.name == name) return &x;
  return nullptr;
}

}  // namespace

std::string_view to_string(Problem p) {
  switch (p) {
    case Problem::config_unreadable: return "config-unreadable";
    case Problem::node_unreachable: return "node-unreachable";
    case Problem::network_missing: return "network-missing";
    case Problem::network_inactive: return "network-inactive";
    case Problem::network_differs: return "network-differs";
    case Problem::bridge_missing: return "bridge-missing";
    case Problem::bridge_unknown: return "bridge-unknown";
    case Problem::dynamic_address: return "dynamic-address";
  }
  return "unknown";
}

std::vector<Finding> check_vm_networks(const std::vector<HaVm>& vms, const std::vector<NodeFacts>& nodes) {
  std::vector<Finding> out;
  for (const auto& vm : vms) {
    if (!vm.xml) {
      out.push_back({vm.resource, "", Problem::config_unreadable, "",
                     fmt::format("config {} is unreadable: {}", vm.config, vm.read_error)});
      continue;
    }
    auto ifs = domain_interfaces(*vm.xml);
    if (!ifs) {
      out.push_back({vm.resource, "", Problem::config_unreadable, "", fmt::format("config {}: {}", vm.config, ifs.error().message())});
      continue;
    }
    if (ifs->empty()) continue;
    for (const auto& node : nodes)
      if (node.error)
        out.push_back({vm.resource, node.node, Problem::node_unreachable, "",
                       fmt::format("its networks cannot be checked on {}: {}", node.node, *node.error)});
    std::vector<std::string> seen;
    for (const auto& i : *ifs) {
      if (i.type == InterfaceUse::Type::network) {
        // Static DHCP entry, judged on the first node that has the network (differences between
        // nodes are reported below).
        for (const auto& n : nodes) {
          const NetworkInfo* x = n.error ? nullptr : find(n, i.source);
          if (!x) continue;
          auto s = parse_xml(x->xml);
          if (!s) break;
          if (s->kind == Kind::nat && !s->dhcp_start.empty()) {
            const auto mac = canonical_mac(i.mac);
            const bool fixed = mac && std::any_of(s->hosts.begin(), s->hosts.end(), [&](const DhcpHost& h) { return h.mac == *mac; });
            if (!fixed)
              out.push_back({vm.resource, "", Problem::dynamic_address, i.source,
                             i.mac.empty() ? fmt::format("an interface on NAT network '{}' has no MAC in {} (libvirt makes a new one at every "
                                                         "define, so DHCP gives it a new address); set one and a static DHCP entry for it",
                                                         i.source, vm.config)
                                           : fmt::format("interface {} has no static DHCP entry on NAT network '{}': each node's dnsmasq keeps "
                                                         "its own leases, so after a failover it may get another address (evosctl net create "
                                                         "--host {}=IP)",
                                                         i.mac, i.source, i.mac)});
          }
          break;
        }
      }
      if (std::find(seen.begin(), seen.end(), i.source) != seen.end()) continue;  // two NICs on one network
      seen.push_back(i.source);
      if (i.type == InterfaceUse::Type::bridge) {
        for (const auto& node : nodes) {
          if (node.error) continue;
          if (!node.bridges)
            out.push_back({vm.resource, node.node, Problem::bridge_unknown, i.source,
                           fmt::format("host bridge {} cannot be checked on {} (its interfaces could not be listed)", i.source, node.node)});
          else if (!node.bridges->count(i.source))
            out.push_back({vm.resource, node.node, Problem::bridge_missing, i.source,
                           fmt::format("host bridge {} does not exist on {}", i.source, node.node)});
        }
        continue;
      }
      // The reference definition: where the VM runs, else the first node that has it.
      std::optional<NetworkSpec> reference;
      std::string reference_node;
      auto take = [&](const NodeFacts& n) {
        const NetworkInfo* x = find(n, i.source);
        if (!x || reference) return;
        if (auto s = parse_xml(x->xml)) {
          reference = std::move(*s);
          reference_node = n.node;
        }
      };
      for (const auto& n : nodes)
        if (!n.error && std::find(vm.running_on.begin(), vm.running_on.end(), n.node) != vm.running_on.end()) take(n);
      for (const auto& n : nodes)
        if (!n.error) take(n);
      for (const auto& node : nodes) {
        if (node.error) continue;
        const NetworkInfo* x = find(node, i.source);
        if (!x) {
          out.push_back({vm.resource, node.node, Problem::network_missing, i.source,
                         fmt::format("network '{}' is not defined on {}", i.source, node.node)});
          continue;
        }
        if (!x->active)
          out.push_back({vm.resource, node.node, Problem::network_inactive, i.source,
                         fmt::format("network '{}' is defined but not active on {}", i.source, node.node)});
        if (!reference || node.node == reference_node) continue;
        auto s = parse_xml(x->xml);
        if (!s) {
          out.push_back({vm.resource, node.node, Problem::network_differs, i.source,
                         fmt::format("network '{}' on {}: {}", i.source, node.node, s.error().message())});
          continue;
        }
        const auto diffs = compare(*reference, *s);
        if (!diffs.empty())
          out.push_back({vm.resource, node.node, Problem::network_differs, i.source,
                         fmt::format("network '{}' differs on {}: {}", i.source, node.node, describe(diffs, reference_node, node.node))});
      }
    }
  }
  return out;
}

}  // namespace evos::network
